//! Properties of the firmware core for any sequence of button levels and
//! times (proptest): one action per press at most, no action without a
//! debounced hold of at least `reboot_after`, release in a stage gives that
//! stage's action, a button held at start never acts, and `next_deadline` is
//! never in the past (the harness checks that on every step).

use crate::common;

use proptest::prelude::*;

use common::{ms, Harness};
use rackpi_panel::core::{Effect, Event, Input, Panel, PowerAction, Rules};

/// Level changes: (milliseconds since the previous change, pressed). Gaps are
/// mostly bounce-short or hold-long, so that every stage is reached.
fn levels() -> impl Strategy<Value = Vec<(u64, bool)>> {
    let gap = prop_oneof![
        3 => 0u64..40,
        2 => 40u64..2_000,
        3 => 7_900u64..8_100,
        2 => 11_900u64..12_100,
        2 => 19_900u64..20_100,
        1 => 2_000u64..30_000,
    ];
    prop::collection::vec((gap, any::<bool>()), 0..40)
}

/// Runs the levels; every started action fails at once (so the panel goes
/// on accepting presses), and the run ends long after the last change.
fn run(start_pressed: bool, changes: &[(u64, bool)]) -> Harness {
    let mut h = Harness::new(Rules::default(), start_pressed);
    let mut t = 0;
    for &(gap, pressed) in changes {
        t += gap;
        h.level(t, pressed);
        fail_started_actions(&mut h, t);
    }
    for extra in [1_000, 30_000, 60_000] {
        h.run_until(t + extra);
        fail_started_actions(&mut h, t + extra);
    }
    h
}

fn fail_started_actions(h: &mut Harness, t: u64) {
    let started = h
        .log
        .iter()
        .filter(|(_, e)| matches!(e, Effect::RunPower(_)))
        .count();
    let done = h
        .log
        .iter()
        .filter(|(_, e)| matches!(e, Effect::Event(Event::ActionFailed { .. })))
        .count();
    if started > done {
        h.input(t, Input::ActionDone(Err("refused".into())));
    }
}

/// (press time, release time, action at the release) for each debounced press.
fn presses(h: &Harness) -> Vec<(u64, Option<u64>, Option<PowerAction>)> {
    let mut out: Vec<(u64, Option<u64>, Option<PowerAction>)> = Vec::new();
    for (t, effect) in &h.log {
        match effect {
            Effect::Event(Event::Press) => out.push((*t, None, None)),
            Effect::Event(Event::Release) => {
                if let Some(last) = out.last_mut() {
                    last.1 = Some(*t);
                }
            }
            Effect::RunPower(action) => {
                let last = out.last_mut().expect("an action follows a press");
                assert_eq!(last.1, Some(*t), "actions run on the release");
                assert!(last.2.is_none(), "a second action for one press");
                last.2 = Some(*action);
            }
            _ => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn each_release_gives_its_stage_action_and_nothing_else(changes in levels()) {
        let t = Rules::default();
        let h = run(false, &changes);
        for (press, release, action) in presses(&h) {
            let Some(release) = release else {
                prop_assert!(action.is_none());
                continue;
            };
            // both events come one debounce period after their edges
            let held = release - press;
            let expected = if held >= t.cancel_after.as_millis() as u64 {
                None
            } else if held >= t.shutdown_after.as_millis() as u64 {
                Some(PowerAction::Shutdown)
            } else if held >= t.reboot_after.as_millis() as u64 {
                Some(PowerAction::Reboot)
            } else {
                None
            };
            prop_assert_eq!(action, expected, "held {} ms", held);
        }
    }

    #[test]
    fn no_action_without_a_hold_of_reboot_after(changes in levels()) {
        let h = run(false, &changes);
        let actions = h.log.iter().filter(|(_, e)| matches!(e, Effect::RunPower(_))).count();
        let long_holds = presses(&h)
            .iter()
            .filter(|(p, r, _)| r.is_some_and(|r| r - p >= 8_000))
            .count();
        prop_assert!(actions <= long_holds);
    }

    #[test]
    fn a_button_held_at_start_never_acts_before_it_is_released(changes in levels()) {
        let h = run(true, &changes);
        // the first debounced release ends the ignored press: nothing before it
        let first_press = h
            .log
            .iter()
            .find(|(_, e)| *e == Effect::Event(Event::Press))
            .map(|(t, _)| *t);
        for (t, effect) in &h.log {
            if matches!(effect, Effect::RunPower(_) | Effect::Event(Event::RebootArmed)) {
                prop_assert!(first_press.is_some_and(|p| p <= *t));
            }
        }
    }

    #[test]
    fn a_glitch_shorter_than_the_debounce_changes_nothing(at in 0u64..100_000, width in 1u64..30) {
        let mut h = Harness::new(Rules::default(), false);
        h.level(at, true);
        h.level(at + width, false);
        h.run_until(at + 60_000);
        prop_assert!(!h.log.iter().any(|(_, e)| matches!(e, Effect::Event(Event::Press | Event::Release))));
    }
}

/// The same levels fed to a loop that stalls: no deadline runs between the
/// edges of one batch, each edge still carries its own time, and the loop
/// catches up at the end of the batch.
fn run_batched(changes: &[(u64, bool)], batch_ends: &[bool]) -> Vec<Effect> {
    let (mut panel, mut effects) = Panel::start(Rules::default(), ms(0), false);
    let mut t = 0;
    for (i, &(gap, pressed)) in changes.iter().enumerate() {
        t += gap;
        effects.extend(panel.step(Input::Button { pressed }, ms(t)));
        if batch_ends.get(i).copied().unwrap_or(true) {
            effects.extend(panel.step(Input::Tick, ms(t)));
        }
    }
    effects.extend(panel.step(Input::Tick, ms(t + 60_000)));
    effects
}

/// The same levels, each delivered the moment it happens, every deadline
/// run on time.
fn run_prompt(changes: &[(u64, bool)]) -> Vec<Effect> {
    let mut h = Harness::new(Rules::default(), false);
    let mut t = 0;
    for &(gap, pressed) in changes {
        t += gap;
        h.level(t, pressed);
    }
    h.run_until(t + 60_000);
    h.log.into_iter().map(|(_, e)| e).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn edges_delivered_late_and_in_batches_change_nothing(
        changes in levels(),
        batch_ends in prop::collection::vec(any::<bool>(), 0..40),
    ) {
        let prompt = run_prompt(&changes);
        let batched = run_batched(&changes, &batch_ends);
        let actions = |effects: &[Effect]| -> Vec<Effect> {
            effects.iter().filter(|e| matches!(e, Effect::RunPower(_) | Effect::Event(_))).cloned().collect()
        };
        prop_assert_eq!(actions(&prompt), actions(&batched));
    }
}
