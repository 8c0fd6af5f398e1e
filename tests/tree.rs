//! The source tree keeps the rooms of docs/architecture.md: each file's
//! non-test part under 600 lines, each function under 80, the core importing
//! nothing of the crate, the simulator taking from the Linux adapters only
//! what it shares by design.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FUNCTION_LINES: usize = 80;

struct Source {
    path: PathBuf,
    /// The lines before the file's `#[cfg(test)] mod tests`.
    lines: Vec<String>,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let test_only = test_only_files(&files);
    files.sort();
    files
        .into_iter()
        .filter(|path| !test_only.contains(path))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let all: Vec<String> = text.lines().map(str::to_string).collect();
            let end = (0..all.len())
                .find(|&i| {
                    all[i].trim() == "#[cfg(test)]"
                        && all.get(i + 1).is_some_and(|l| l.trim() == "mod tests {")
                })
                .unwrap_or(all.len());
            Source {
                path: path.strip_prefix(&src).unwrap().to_path_buf(),
                lines: all[..end].to_vec(),
            }
        })
        .collect()
}

/// Files that are modules declared under `#[cfg(test)]` (`mod bus_tests;`).
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // a module's children live in a folder named after it (lib.rs,
        // main.rs and mod.rs: beside it)
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let dir = match stem {
            "lib" | "main" | "mod" => path.parent().unwrap().to_path_buf(),
            _ => path.parent().unwrap().join(stem),
        };
        for pair in lines.windows(2) {
            let declared = pair[1]
                .trim()
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'));
            if let (true, Some(name)) = (pair[0].trim() == "#[cfg(test)]", declared) {
                found.insert(dir.join(format!("{name}.rs")));
                found.insert(dir.join(name).join("mod.rs"));
            }
        }
    }
    found
}

fn function_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    (!line.trim_end().ends_with(';')).then_some(&name[..end])
}

#[test]
fn every_file_and_function_fits_in_a_room() {
    let mut too_long = Vec::new();
    for source in sources() {
        if source.lines.len() > MAX_FILE_LINES {
            too_long.push(format!(
                "{}: {} lines without its tests (at most {MAX_FILE_LINES})",
                source.path.display(),
                source.lines.len()
            ));
        }
        for (i, line) in source.lines.iter().enumerate() {
            let Some(name) = function_name(line) else {
                continue;
            };
            let indent = &line[..line.len() - line.trim_start().len()];
            let close = format!("{indent}}}");
            // a body on the same line (`fn settled(&mut self) {}`)
            let opened = line.matches('{').count();
            if opened > 0 && opened == line.matches('}').count() {
                continue;
            }
            let length = source.lines[i..]
                .iter()
                .position(|l| *l == close)
                .map_or(1, |n| n + 1);
            if length > MAX_FUNCTION_LINES {
                too_long.push(format!(
                    "{}: fn {name} is {length} lines (at most {MAX_FUNCTION_LINES})",
                    source.path.display()
                ));
            }
        }
    }
    assert!(too_long.is_empty(), "{}", too_long.join("\n"));
}

#[test]
fn the_core_imports_nothing_of_the_crate() {
    let reaching: Vec<String> = sources()
        .iter()
        .filter(|s| s.path.starts_with("core"))
        .flat_map(|s| {
            s.lines
                .iter()
                .filter(|l| l.contains("crate::") && !l.contains("crate::core"))
                .map(move |l| format!("{}: {}", s.path.display(), l.trim()))
        })
        .collect();
    assert!(reaching.is_empty(), "{}", reaching.join("\n"));
}

#[test]
fn the_simulator_shares_only_the_display_stats_and_pages_with_the_linux_adapters() {
    // (and the UPS reader and the MQTT link: a real upsd or broker on
    // loopback needs no hardware)
    const SHARED: [&str; 5] = ["display", "stats", "pages", "ups", "mqtt"];
    let reaching: Vec<String> = sources()
        .iter()
        .filter(|s| s.path.starts_with("sim"))
        .flat_map(|s| {
            s.lines
                .iter()
                .filter_map(|l| {
                    let used = l.split("crate::linux::").nth(1)?;
                    let module = used
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()?;
                    (!SHARED.contains(&module))
                        .then(|| format!("{}: {}", s.path.display(), l.trim()))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(reaching.is_empty(), "{}", reaching.join("\n"));
}
