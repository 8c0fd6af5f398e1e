//! Whether the programs the file names can be run on this machine: looked
//! up on `PATH` at start rather than when someone has held the button for
//! 8 s. Kept apart from the rules because it asks the file system.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use nix::unistd::AccessFlags;

use super::{Config, RuleError};

/// Where a bare program name is searched when `PATH` is not set.
pub(crate) const DEFAULT_SEARCH_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Checks that each power and page program can be run: a path must be an
/// executable file, a bare name must be one in a directory of
/// `search_path` (a `PATH` value).
pub(crate) fn check_programs(config: &Config, search_path: &OsStr) -> Result<(), RuleError> {
    let power = [
        ("power.reboot", &config.power.reboot, None),
        ("power.shutdown", &config.power.shutdown, None),
    ];
    let pages = config
        .custom_pages
        .iter()
        .enumerate()
        .filter_map(|(index, page)| Some(("page.command", page.command.as_ref()?, Some(index))));
    for (key, argv, page) in power.into_iter().chain(pages) {
        let Some(program) = argv.first() else {
            continue;
        };
        if find_program(program, search_path).is_some() {
            continue;
        }
        let of_page = page
            .map(|index| format!("of page \"{}\" ", config.custom_pages[index].name))
            .unwrap_or_default();
        let problem = if program.split_whitespace().nth(1).is_some() {
            // a command line written as one word: no shell splits it
            let words: Vec<String> = program
                .split_whitespace()
                .chain(argv[1..].iter().map(String::as_str))
                .map(|word| format!("{word:?}"))
                .collect();
            let name = key.rsplit('.').next().unwrap_or(key);
            format!(
                "{of_page}names the program {program:?}, one word holding spaces: no shell splits it, \
                 so give each word as a string of its own, `{name} = [{}]`",
                words.join(", ")
            )
        } else if program.contains('/') {
            if Path::new(program).exists() {
                format!("{of_page}names {program}, which is not an executable file: make it executable (chmod +x) or name another program")
            } else {
                format!("{of_page}names {program}, which does not exist: give the full path of an installed program")
            }
        } else {
            format!(
                "{of_page}names `{program}`, which is not found on PATH ({}): install it or give its full path",
                search_path.to_string_lossy()
            )
        };
        return Err(RuleError { key, page, problem });
    }
    Ok(())
}

/// Where `program` would be run from: itself when it contains a `/`,
/// otherwise the first executable regular file of that name in a directory
/// of `search_path` (a `PATH` value; empty entries are skipped). `None` when
/// there is no such file.
pub(crate) fn find_program(program: &str, search_path: &OsStr) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable_file(&path).then_some(path);
    }
    std::env::split_paths(search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

/// A regular file (after symlinks) this process may execute.
fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && nix::unistd::access(path, AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, with_page};
    use super::*;
    use crate::config::Config;

    #[test]
    fn page_programs_are_looked_up_like_power_programs() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let text = format!(
            "{}\n[[page]]\nname = \"other\"\ncommand = [\"read-me\"]\n",
            with_page("command = [\"run-me\"]").replace("\"backup\"]", "\"backup\", \"other\"]")
        );
        let mut config = parse(&text).unwrap();
        config.power.reboot = vec!["run-me".into()];
        config.power.shutdown = vec!["run-me".into()];
        let msg = config
            .check_programs_in(Path::new("c.toml"), bin, &text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`page.command` of page \"other\""), "{msg}");
        assert!(msg.contains("line 10") && msg.contains("read-me"), "{msg}");
        config.custom_pages[1].command = Some(vec!["run-me".into()]);
        assert!(config
            .check_programs_in(Path::new("c.toml"), bin, "")
            .is_ok());
    }

    /// A directory holding an executable `run-me`, a non-executable
    /// `read-me` and a directory `dir-me`.
    fn programs() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, mode) in [("run-me", 0o755), ("read-me", 0o644)] {
            let path = dir.path().join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::create_dir(dir.path().join("dir-me")).unwrap();
        dir
    }

    #[test]
    fn find_program_searches_each_path_directory_for_an_executable_file() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let search = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert_eq!(
            find_program("run-me", &search),
            Some(dir.path().join("run-me"))
        );
        assert_eq!(find_program("read-me", bin), None);
        assert_eq!(find_program("dir-me", bin), None);
        assert_eq!(find_program("missing", bin), None);
        assert_eq!(find_program("run-me", OsStr::new("")), None);
        assert_eq!(find_program("run-me", OsStr::new("/nonexistent")), None);
        assert_eq!(find_program("", bin), None);
        // a name with a slash is a path, not searched
        let full = dir.path().join("run-me");
        assert_eq!(
            find_program(full.to_str().unwrap(), OsStr::new("")),
            Some(full)
        );
        let full = dir.path().join("read-me");
        assert_eq!(find_program(full.to_str().unwrap(), bin), None);
        assert_eq!(find_program("dir-me/run-me", bin), None);
    }

    #[test]
    fn check_programs_names_the_key_and_where_it_looked() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let mut config = Config::default();
        config.power.reboot = vec!["run-me".into()];
        config.power.shutdown = vec![dir.path().join("run-me").to_string_lossy().into()];
        assert!(config
            .check_programs_in(Path::new("c.toml"), bin, "")
            .is_ok());
        config.power.shutdown = vec!["read-me".into(), "now".into()];
        let msg = config
            .check_programs_in(Path::new("c.toml"), bin, "")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`power.shutdown`"), "{msg}");
        assert!(msg.contains("read-me"), "{msg}");
        assert!(msg.contains(&*bin.to_string_lossy()), "{msg}");
        config.power.shutdown = vec![dir.path().join("read-me").to_string_lossy().into()];
        let msg = config
            .check_programs_in(Path::new("c.toml"), bin, "")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not an executable file"), "{msg}");
        config.power.reboot = vec!["/nonexistent/reboot".into()];
        let msg = config
            .check_programs_in(Path::new("c.toml"), bin, "")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`power.reboot`"), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");
    }
}
