//! The configuration shipped in the package must parse, and give the defaults.

use std::path::Path;

use rackpi_panel::config::Config;

#[test]
fn the_packaged_config_parses_to_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(Config::parse(&text, &path).unwrap(), Config::default());
    // and uncommenting every line still gives the defaults
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix('#')
                .filter(|r| !r.starts_with(' '))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        Config::parse(&uncommented, &path).unwrap(),
        Config::default()
    );
}
