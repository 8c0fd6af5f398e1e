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
        let problem = if program.contains('/') {
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
