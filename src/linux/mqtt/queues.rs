//! What waits between the loop and the broker: the outbox (the latest
//! message per topic, a bounded queue of events, and what a new connection
//! sends first) and the inbox (what the link's thread found, bounded).
//! Plain data, locked by the caller; nothing here blocks.

use std::collections::VecDeque;

use super::{LinkEvent, Outgoing};

/// How many events wait at most; past it the oldest is dropped (SPEC §9).
pub(crate) const EVENT_QUEUE: usize = 64;

/// How many link events wait for the loop at most (the rack page brings
/// two retained messages per peer, up to 256 peers, at each connection).
pub(crate) const INBOX_EVENTS: usize = 1024;

/// How many payload bytes wait for the loop at most, all messages together.
pub(crate) const INBOX_BYTES: usize = 1 << 20;

/// A request that a new connection makes before anything else.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum First {
    Publish(Outgoing),
    Subscribe(Vec<String>),
}

/// What waits to be handed to the MQTT client.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    first: VecDeque<First>,
    /// One message per topic, in the order the topics first came.
    latest: VecDeque<Outgoing>,
    events: VecDeque<Outgoing>,
    /// Events dropped because the queue was full, since the last report.
    pub dropped: u64,
}

/// The next request, as the outbox hands it out.
pub(crate) enum Next<'a> {
    First(&'a First),
    Message(&'a Outgoing),
}

impl Outbox {
    /// Replaces whatever waits for the same topic.
    pub fn put_latest(&mut self, msg: Outgoing) {
        match self.latest.iter_mut().find(|m| m.topic == msg.topic) {
            Some(waiting) => *waiting = msg,
            None => self.latest.push_back(msg),
        }
    }

    /// Queues an event; returns true when an older one was dropped for it.
    pub fn put_event(&mut self, msg: Outgoing) -> bool {
        let full = self.events.len() >= EVENT_QUEUE;
        if full {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(msg);
        full
    }

    /// A new connection: `first` goes out before everything that waits.
    pub fn on_connect(&mut self, first: impl IntoIterator<Item = First>) {
        self.first = first.into_iter().collect();
    }

    /// What goes out next: the connection's first requests, then the
    /// latest messages, then the events.
    pub fn peek(&self) -> Option<Next<'_>> {
        if let Some(first) = self.first.front() {
            return Some(Next::First(first));
        }
        self.latest
            .front()
            .or_else(|| self.events.front())
            .map(Next::Message)
    }

    /// The request `peek` showed has been handed over.
    pub fn pop(&mut self) {
        if self.first.pop_front().is_none() && self.latest.pop_front().is_none() {
            self.events.pop_front();
        }
    }

    /// How many messages wait (first requests not counted).
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.latest.len() + self.events.len()
    }
}

/// What the link's thread found, for the loop.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    events: VecDeque<LinkEvent>,
    bytes: usize,
    /// Messages dropped because the loop had not taken the earlier ones.
    pub dropped: u64,
}

impl Inbox {
    /// Adds `event`, dropping the oldest messages (never a connection
    /// change) while the inbox is over its bounds. Returns whether it was
    /// empty before (the loop needs a wake-up byte only then).
    pub fn push(&mut self, event: LinkEvent) -> bool {
        let was_empty = self.events.is_empty();
        self.bytes += size(&event);
        self.events.push_back(event);
        while self.events.len() > INBOX_EVENTS || self.bytes > INBOX_BYTES {
            let Some(index) = self
                .events
                .iter()
                .position(|e| matches!(e, LinkEvent::Message { .. }))
            else {
                break;
            };
            if let Some(dropped) = self.events.remove(index) {
                self.bytes -= size(&dropped);
                self.dropped += 1;
            }
        }
        was_empty
    }

    /// Everything waiting, oldest first.
    pub fn take(&mut self) -> Vec<LinkEvent> {
        self.bytes = 0;
        self.events.drain(..).collect()
    }
}

fn size(event: &LinkEvent) -> usize {
    match event {
        LinkEvent::Message { topic, payload, .. } => topic.len() + payload.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, payload: &str) -> Outgoing {
        Outgoing {
            topic: topic.into(),
            payload: payload.into(),
            retain: false,
        }
    }

    fn drain(outbox: &mut Outbox) -> Vec<String> {
        let mut sent = Vec::new();
        while let Some(next) = outbox.peek() {
            sent.push(match next {
                Next::First(First::Publish(m)) | Next::Message(m) => {
                    format!("{}={}", m.topic, String::from_utf8_lossy(&m.payload))
                }
                Next::First(First::Subscribe(topics)) => format!("sub {}", topics.join(",")),
            });
            outbox.pop();
        }
        sent
    }

    #[test]
    fn only_the_latest_message_per_topic_waits() {
        let mut outbox = Outbox::default();
        outbox.put_latest(msg("p/n/state", "1"));
        outbox.put_latest(msg("p/n/availability", "online"));
        outbox.put_latest(msg("p/n/state", "2"));
        assert_eq!(outbox.waiting(), 2);
        assert_eq!(
            drain(&mut outbox),
            ["p/n/state=2", "p/n/availability=online"]
        );
    }

    #[test]
    fn events_past_64_drop_the_oldest_and_are_counted() {
        let mut outbox = Outbox::default();
        for n in 0..70 {
            outbox.put_event(msg("p/n/event", &n.to_string()));
        }
        assert_eq!(outbox.dropped, 6);
        let sent = drain(&mut outbox);
        assert_eq!(sent.len(), 64);
        assert_eq!(sent[0], "p/n/event=6");
        assert_eq!(sent[63], "p/n/event=69");
    }

    #[test]
    fn a_connection_sends_its_first_requests_before_what_waits() {
        let mut outbox = Outbox::default();
        outbox.put_event(msg("p/n/event", "press"));
        outbox.put_latest(msg("p/n/state", "{}"));
        outbox.on_connect([
            First::Publish(msg("p/n/availability", "online")),
            First::Subscribe(vec!["p/+/state".into()]),
        ]);
        assert_eq!(
            drain(&mut outbox),
            [
                "p/n/availability=online",
                "sub p/+/state",
                "p/n/state={}",
                "p/n/event=press"
            ]
        );
    }

    #[test]
    fn a_full_inbox_drops_old_messages_but_keeps_connection_changes() {
        let mut inbox = Inbox::default();
        assert!(
            inbox.push(LinkEvent::Connected),
            "empty before: wake the loop"
        );
        for n in 0..INBOX_EVENTS + 10 {
            let first = inbox.push(LinkEvent::Message {
                topic: format!("p/{n}/state"),
                payload: vec![b'x'; 10],
                retain: true,
            });
            assert!(!first, "one wake-up byte per batch");
        }
        assert_eq!(inbox.dropped, 11);
        let events = inbox.take();
        assert_eq!(events.len(), INBOX_EVENTS);
        assert_eq!(events[0], LinkEvent::Connected);
        let big = vec![b'x'; INBOX_BYTES / 2 + 1];
        for _ in 0..3 {
            inbox.push(LinkEvent::Message {
                topic: "t".into(),
                payload: big.clone(),
                retain: false,
            });
        }
        assert_eq!(inbox.take().len(), 1, "bounded by bytes too");
    }
}
