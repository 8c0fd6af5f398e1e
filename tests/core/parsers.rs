//! The two parsers that read user input, fed arbitrary text (proptest):
//! they return errors, never panic, and an accepted input is valid.

use std::path::Path;

use proptest::prelude::*;

use rackpi_panel::config::Config;
use rackpi_panel::sim::script;

/// Text that looks like a config file: known sections and keys with values
/// of every type, mixed with noise.
fn config_like() -> impl Strategy<Value = String> {
    let section = prop::sample::select(vec![
        "[button]",
        "[led]",
        "[display]",
        "[network]",
        "[power]",
        "[other]",
    ]);
    let key = prop::sample::select(vec![
        "line",
        "chip",
        "offset",
        "active_low",
        "bias",
        "debounce_ms",
        "reboot_after_s",
        "shutdown_after_s",
        "cancel_after_s",
        "bus",
        "address",
        "size",
        "rotation",
        "contrast",
        "timeout_s",
        "show_until_ip",
        "pages",
        "interface",
        "reboot",
        "shutdown",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        any::<bool>().prop_map(|v| v.to_string()),
        "[a-z0-9/ ]{0,12}".prop_map(|s| format!("\"{s}\"")),
        prop::collection::vec("[a-z]{0,8}", 0..4).prop_map(|v| format!("{v:?}")),
        Just("0x3c".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        "[^\n]{0,10}",
    ];
    let line = prop_oneof![
        section.prop_map(str::to_string),
        (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
    ];
    prop::collection::vec(line, 0..20).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_config_parser_never_panics(text in config_like()) {
        if let Ok(config) = Config::parse(&text, Path::new("fuzz.toml")) {
            // whatever it accepts is usable by the core
            prop_assert!(rackpi_panel::core::Rules::try_from(&config).is_ok());
        }
    }

    #[test]
    fn the_config_parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        let _ = Config::parse(&text, Path::new("fuzz.toml"));
    }

    #[test]
    fn the_script_parser_never_panics(text in "((press|wait|down|up|display|power|quit|plug|unplug|fail|ok|#|-|[0-9.e+]{1,8}|\\PC{1,4})[ \t\n]{0,2}){0,30}") {
        match script::parse(&text) {
            Ok(commands) => {
                // every accepted scenario has a finite end
                let (_, end) = script::timeline(&commands);
                prop_assert!(end.as_secs() <= 31_536_000 * 30);
            }
            Err(err) => prop_assert!(err.line >= 1 && err.line <= text.lines().count().max(1)),
        }
    }
}
