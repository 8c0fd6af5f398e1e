//! The UPS over NUT (SPEC §10): one worker thread reads upsd every
//! `poll_s`, and sooner when the `ups` page asks; the page takes the last
//! figures without waiting, and the loop hears of a condition (on battery,
//! low battery, forced shutdown, back on line) only when it changes: a
//! bounded channel and a byte on `woken`. While the screen is dark that is
//! one read per `poll_s` and no wake-up of the loop unless something changed.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::UpsSettings;
use crate::core::{AttentionSource, Condition, Input, UpsStatus};
use crate::linux::nut::{self, NutError, Request};
use crate::stats::{UpsFigures, UpsText};

/// How often the shown page has the UPS read again (its figures move
/// slowly; upsd's own drivers poll every 2 s by default).
pub(crate) const PAGE_READ_EVERY: Duration = Duration::from_secs(2);

/// Conditions waiting for the loop; more than this many changes unread
/// means the loop is stalled, and the latest state is what counts.
const PENDING_CONDITIONS: usize = 4;

/// The loop's side for the `ups` page: asks for fresh figures and takes
/// the last ones, never waiting.
pub struct UpsPage {
    requests: SyncSender<()>,
    latest: Arc<Mutex<UpsText>>,
    asked_at: Option<Instant>,
}

impl UpsPage {
    /// The last figures (or why there are none); asks for a new read when
    /// the last ask is [`PAGE_READ_EVERY`] old.
    pub fn sample(&mut self) -> UpsText {
        let now = Instant::now();
        let due = self
            .asked_at
            .is_none_or(|at| now.saturating_duration_since(at) >= PAGE_READ_EVERY);
        // (a full channel means a read is asked already)
        if due && self.requests.try_send(()).is_ok() {
            self.asked_at = Some(now);
        }
        match self.latest.lock() {
            Ok(latest) => latest.clone(),
            Err(_) => UpsText::Error("the UPS reader stopped".into()),
        }
    }
}

/// The loop's side for the attention: the conditions the worker sent.
pub struct UpsConditions {
    received: Receiver<Input>,
}

impl UpsConditions {
    /// Every condition change sent since the last call, oldest first.
    pub fn drain(&self) -> Vec<Input> {
        let mut inputs = Vec::new();
        loop {
            match self.received.try_recv() {
                Ok(input) => inputs.push(input),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return inputs,
            }
        }
    }
}

/// Starts the worker reading the UPS of `settings`; a byte goes to `waker`
/// after each condition sent. The thread ends when both sides are dropped.
pub fn start(
    settings: UpsSettings,
    waker: Option<UnixStream>,
) -> std::io::Result<(UpsPage, UpsConditions)> {
    let (requests, asked) = mpsc::sync_channel(1);
    let (send, received) = mpsc::sync_channel(PENDING_CONDITIONS);
    let latest = Arc::new(Mutex::new(UpsText::Pending));
    let worker = Worker {
        settings,
        latest: latest.clone(),
        conditions: send,
        waker,
        condition: None,
        failing: None,
    };
    std::thread::Builder::new()
        .name("rackpi-ups".into())
        .spawn(move || worker.serve(asked))?;
    let page = UpsPage {
        requests,
        latest,
        asked_at: None,
    };
    Ok((page, UpsConditions { received }))
}

struct Worker {
    settings: UpsSettings,
    latest: Arc<Mutex<UpsText>>,
    conditions: SyncSender<Input>,
    waker: Option<UnixStream>,
    /// The condition last sent.
    condition: Option<Condition>,
    /// The last read's error, logged once until a read succeeds.
    failing: Option<String>,
}

impl Worker {
    /// Reads at once, then every `poll` and whenever asked.
    fn serve(mut self, asked: Receiver<()>) {
        let mut next = Instant::now();
        loop {
            match asked.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let text = read(&self.settings);
            next = Instant::now() + self.settings.poll;
            self.log_change(&text);
            if let UpsText::Read(figures) = &text {
                // a failed read changes nothing: the page says why
                let condition = UpsStatus::parse(&figures.status).condition();
                if condition != self.condition {
                    match self.send(condition.clone()) {
                        Sent::Yes => self.condition = condition,
                        // (sent again at the next read)
                        Sent::QueueFull => {}
                        Sent::LoopGone => return,
                    }
                }
            }
            match self.latest.lock() {
                Ok(mut latest) => *latest = text,
                Err(_) => return,
            }
        }
    }

    /// Logs a read that fails, once per error, and the first that
    /// succeeds after it.
    fn log_change(&mut self, text: &UpsText) {
        match text {
            UpsText::Error(why) if self.failing.as_ref() != Some(why) => {
                log::warn!("cannot read the UPS: {why}");
                self.failing = Some(why.clone());
            }
            UpsText::Read(_) if self.failing.take().is_some() => {
                log::info!("the UPS is read again from {}", self.settings.server);
            }
            _ => {}
        }
    }

    /// Sends a changed condition and wakes the loop.
    fn send(&mut self, condition: Option<Condition>) -> Sent {
        let input = Input::Condition {
            source: AttentionSource::Ups,
            condition,
        };
        match self.conditions.try_send(input) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => return Sent::QueueFull,
            Err(mpsc::TrySendError::Disconnected(_)) => return Sent::LoopGone,
        }
        if let Some(waker) = self.waker.as_mut() {
            let _ = waker.write(&[1]);
        }
        Sent::Yes
    }
}

/// What became of a condition sent to the loop.
enum Sent {
    Yes,
    /// The loop is stalled with changes unread: the latest is sent at the
    /// next read.
    QueueFull,
    /// The loop has ended.
    LoopGone,
}

/// One read of the UPS: its figures, or why there are none.
fn read(settings: &UpsSettings) -> UpsText {
    match read_figures(settings) {
        Ok(figures) => UpsText::Read(figures),
        Err(err) => UpsText::Error(err.to_string()),
    }
}

fn read_figures(settings: &UpsSettings) -> Result<UpsFigures, NutError> {
    let password = match &settings.login {
        Some((user, file)) => Some((user.as_str(), password(file)?)),
        None => None,
    };
    let vars = nut::list_vars(Request {
        server: &settings.server,
        name: &settings.name,
        login: password.as_ref().map(|(user, pass)| (*user, pass.as_str())),
    })?;
    figures(&vars).ok_or_else(|| NutError::Garbled {
        what: format!("no ups.status for UPS {}", settings.name),
    })
}

/// The first line of the password file (a regular file of at most 4 KiB).
fn password(file: &std::path::Path) -> Result<String, NutError> {
    let failed = |why: String| NutError::Password {
        path: file.display().to_string(),
        why,
    };
    let text = super::small_file::read(file, 4096).map_err(failed)?;
    let line = text.lines().next().unwrap_or_default().trim();
    if line.is_empty() || line.chars().any(|c| c.is_whitespace() || c == '"') {
        return Err(failed(
            "its first line must be the password, without blanks or quotes".into(),
        ));
    }
    Ok(line.to_string())
}

/// The page's figures from upsd's variables; `None` without `ups.status`.
pub(crate) fn figures(vars: &[(String, String)]) -> Option<UpsFigures> {
    let value = |name: &str| {
        vars.iter()
            .find(|(var, _)| var == name)
            .map(|(_, value)| value.as_str())
    };
    let number = |name: &str| {
        value(name)
            .and_then(|v| v.trim().parse::<f32>().ok())
            .filter(|v| v.is_finite())
    };
    Some(UpsFigures {
        status: value("ups.status")?.to_string(),
        charge_percent: number("battery.charge"),
        runtime_s: number("battery.runtime"),
        load_percent: number("ups.load"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Level;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_password_file_that_is_a_fifo_is_said_at_once_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ups.pass");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(password(&path).map_err(|err| err.to_string()));
        });
        let err = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the UPS reader still waiting on the FIFO after 5 s")
            .unwrap_err();
        assert!(
            err.contains("not a regular file") && err.contains(&*fifo.to_string_lossy()),
            "{err}"
        );
    }

    /// A upsd stand-in on loopback answering every `LIST VAR ups` with the
    /// status `status()` gives then; counts the connections.
    fn upsd(status: fn(usize) -> &'static str) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let _ = write!(
                    stream,
                    "BEGIN LIST VAR ups\nVAR ups ups.status \"{}\"\nEND LIST VAR ups\n",
                    status(n)
                );
            }
        });
        (address, connections)
    }

    fn settings(server: String, poll: Duration) -> UpsSettings {
        UpsSettings {
            server,
            name: "ups".into(),
            login: None,
            poll,
        }
    }

    /// The bytes waiting on the loop's end of `woken`.
    fn woken_bytes(woken: &mut UnixStream) -> usize {
        woken.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        let mut total = 0;
        while let Ok(n) = woken.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }

    #[test]
    fn dark_it_reads_once_per_poll_and_wakes_the_loop_only_for_a_change() {
        // on battery from the third read on
        let (server, connections) = upsd(|n| if n < 2 { "OL" } else { "OB DISCHRG" });
        let (mut woken, waker) = UnixStream::pair().unwrap();
        let (_page, conditions) =
            start(settings(server, Duration::from_millis(500)), Some(waker)).unwrap();
        std::thread::sleep(Duration::from_millis(2_250));
        // reads at 0, 0.5, 1, 1.5 and 2 s (the last one late on a busy machine)
        let reads = connections.load(Ordering::SeqCst);
        assert!((4..=5).contains(&reads), "{reads} reads in 2.25 s");
        assert_eq!(woken_bytes(&mut woken), 1, "one change, one wake-up");
        assert_eq!(
            conditions.drain(),
            [Input::Condition {
                source: AttentionSource::Ups,
                condition: Some(Condition {
                    level: Level::Warn,
                    text: "on battery".into()
                }),
            }]
        );
    }

    #[test]
    fn the_page_asks_for_a_fresh_read_at_most_every_two_seconds() {
        let (server, connections) = upsd(|_| "OL CHRG");
        let (mut page, _conditions) =
            start(settings(server, Duration::from_secs(3600)), None).unwrap();
        let count = || connections.load(Ordering::SeqCst);
        let settled = |wanted: usize| {
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until && count() < wanted {
                std::thread::sleep(Duration::from_millis(20));
            }
            // (and nothing more comes meanwhile)
            std::thread::sleep(Duration::from_millis(300));
            count()
        };
        // the first ask; the reader also reads once at start, and the two
        // may be one read or two, however the threads were scheduled
        let first_ask = Instant::now();
        let until = first_ask + Duration::from_secs(5);
        while Instant::now() < until && page.sample() == UpsText::Pending {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(matches!(page.sample(), UpsText::Read(f) if f.status == "OL CHRG"));
        let at_start = settled(1);
        // two seconds after the first ask, a drawing of the page asks again
        std::thread::sleep(Duration::from_millis(2_100).saturating_sub(first_ask.elapsed()));
        page.sample();
        let asked = Instant::now();
        assert_eq!(settled(at_start + 1), at_start + 1);
        // then none for 2 s, however often the page is drawn
        while asked.elapsed() < Duration::from_millis(1_500) {
            page.sample();
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(count(), at_start + 1);
        std::thread::sleep(Duration::from_millis(2_100).saturating_sub(asked.elapsed()));
        page.sample();
        assert_eq!(settled(at_start + 2), at_start + 2);
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_figures_come_from_their_variables_and_a_bad_number_is_none() {
        let figures = figures(&vars(&[
            ("battery.charge", "64"),
            ("battery.runtime", "1395"),
            ("ups.load", "nan"),
            ("ups.status", "OB DISCHRG"),
        ]))
        .unwrap();
        assert_eq!(
            figures,
            UpsFigures {
                status: "OB DISCHRG".into(),
                charge_percent: Some(64.0),
                runtime_s: Some(1395.0),
                load_percent: None,
            }
        );
        assert_eq!(super::figures(&vars(&[("battery.charge", "64")])), None);
    }

    #[test]
    fn a_password_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        std::fs::write(&file, "s3cret\nignored\n").unwrap();
        assert_eq!(password(&file).unwrap(), "s3cret");
        std::fs::write(&file, "\n").unwrap();
        assert!(password(&file)
            .unwrap_err()
            .to_string()
            .contains("its first line must be the password"));
        assert!(password(&dir.path().join("none"))
            .unwrap_err()
            .to_string()
            .starts_with("cannot read password_file"));
    }
}
