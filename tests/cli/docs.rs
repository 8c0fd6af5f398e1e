//! `docs/behaviour.md` is the contract the README points to: these tests keep
//! its lists (the config with its defaults, the commands, the script
//! language, the events) true to the program; and the README's first screen
//! keeps the two commands CI runs.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use rackpi_panel::config::Config;

use crate::common;
use common::{assert_succeeded, events_of, simulate, BIN};

fn behaviour() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/behaviour.md"))
        .unwrap()
}

/// The text of the section whose heading starts with `heading`, up to the
/// next section.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    let rest = &doc[start + 1..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The first fenced block after `fence` (e.g. "```toml") in `text`.
fn fenced<'a>(text: &'a str, fence: &str) -> &'a str {
    let start = text.find(fence).unwrap() + fence.len();
    let end = text[start..].find("```").unwrap();
    &text[start..start + end]
}

/// The `backticked` words in `text`, in order.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn the_documented_config_is_the_default_config() {
    let doc = behaviour();
    let text = fenced(section(&doc, "## 5."), "```toml");
    let documented = Config::parse(text, Path::new("docs/behaviour.md")).unwrap();
    assert_eq!(documented, Config::default());
}

#[test]
fn the_documented_commands_are_the_commands() {
    let doc = behaviour();
    let synopsis = fenced(section(&doc, "## 6."), "```");
    let documented: BTreeSet<&str> = synopsis
        .lines()
        .filter_map(|line| line.strip_prefix("rackpi-panel "))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let commands = help.split("Commands:").nth(1).unwrap();
    let commands = commands.split("Options:").next().unwrap();
    let actual: BTreeSet<&str> = commands
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert_eq!(documented, actual);
}

/// Every command of the script table, with its placeholders filled in.
fn documented_script_commands(doc: &str) -> Vec<String> {
    section(doc, "## 7.")
        .lines()
        .filter(|line| line.trim_start().starts_with("| `"))
        .flat_map(|row| {
            let first_column = row.trim_start()[1..].split(" | ").next().unwrap();
            backticked(first_column)
                .into_iter()
                .map(|command| {
                    command
                        .replace("SECONDS", "1")
                        .replace("NAME", "x.service")
                        .replace("LEVEL", "warn")
                        .replace("TEXT…", "disk nearly full")
                        .replace("CELSIUS", "83")
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_documented_script_command_runs() {
    let doc = behaviour();
    let commands = documented_script_commands(&doc);
    for expected in [
        "press 1",
        "unit fail x.service",
        "notify warn disk nearly full",
    ] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
    for command in &commands {
        let out = simulate(&format!("{command}\nwait 1\n"), &[]);
        assert!(
            out.status.success(),
            "`{command}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_documented_events_are_the_events_a_run_gives() {
    let doc = behaviour();
    let paragraph = section(&doc, "## 7.").split("Event names:").nth(1).unwrap();
    let paragraph = paragraph.split("\n* ").next().unwrap();
    // the fields named beside the events
    let fields = [
        "name", "pattern", "source", "unit", "notify", "ups", "power", "temp", "rack", "level",
        "text", "seconds",
    ];
    let documented: BTreeSet<&str> = backticked(paragraph)
        .into_iter()
        .flat_map(|word| word.split('|'))
        .filter(|word| !fields.contains(word))
        .collect();
    // one run that does everything the panel can report
    let script = "wait 1\npress 0.2\nwait 20\n\
        display unplug\npress 0.2\nwait 2\ndisplay plug\nwait 20\n\
        power fail\npress 9\nwait 20\npress 21\nwait 20\n\
        power ok\npress 13\nwait 1\n";
    let attention = "unit fail x.service\nwait 1\nunit ok x.service\nwait 1\n\
        notify warn disk nearly full\npress 0.2\nwait 1\npress 0.2\nwait 1\n\
        identify 2\nwait 3\n";
    let mut emitted = BTreeSet::new();
    for script in [script, attention] {
        let out = simulate(script, &[]);
        assert_succeeded(&out);
        for event in events_of(&out) {
            emitted.insert(event["event"].as_str().unwrap().to_string());
        }
    }
    let emitted: BTreeSet<&str> = emitted.iter().map(String::as_str).collect();
    assert_eq!(documented, emitted);
}

#[test]
fn the_readme_starts_with_the_two_commands_and_ci_runs_its_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let first_screen = readme.lines().take(30).collect::<Vec<_>>().join("\n");
    assert!(
        first_screen.contains("```sh"),
        "no commands on the README's first screen (30 lines)"
    );
    let commands: Vec<&str> = fenced(&first_screen, "```sh")
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(
        commands,
        [
            "tests/setup && cargo run --release -- simulate --fake-stats",
            "tests/setup && cargo test --locked"
        ]
    );
    let test_command = readme.find(commands[1]).unwrap();
    assert!(
        root.join("tests/setup").exists(),
        "the commands' set-up script is in the repository"
    );
    assert!(
        readme.find("![").unwrap() > test_command,
        "the pictures come after the commands"
    );
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|line| line.trim() == commands[1]),
        ".ci/run runs the README's test command"
    );
    // the contract it cites is in the repository
    assert!(
        !readme.contains("SPEC"),
        "the README cites docs/behaviour.md"
    );
}
