//! Why a configuration could not be used: the file could not be read, or a
//! value breaks a rule (and then which key, on which line).

use std::path::{Path, PathBuf};

use super::lines::KeyLines;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` does not exist or cannot be read.
    // The OS error is part of the message (a reload logs only the message),
    // so it is deliberately not a `source`: printed with `{:#}` it would
    // appear twice.
    #[error("cannot read config file {path}: {error} (check the path given with --config)")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The path names something other than a regular file: a directory, a
    /// device such as `/dev/zero`, a FIFO or a socket.
    #[error(
        "cannot read config file {path}: it is {kind}, not a regular file \
         (give the path of a TOML file with --config)"
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead, with its article (`a FIFO`).
        kind: &'static str,
    },
    /// The file is larger than any configuration.
    #[error(
        "cannot read config file {path}: it is {size} bytes; a config file is at most 1 MiB \
         (check the path given with --config)"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes, as far as it was measured or read.
        size: u64,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the line and the key.
        message: String,
    },
    /// A key has a value the panel cannot use.
    #[error("config file {path}{}: `{key}` {problem}", at_line(.line))]
    Invalid {
        /// The file (or `<built-in>` for defaults given on the command line).
        path: PathBuf,
        /// The line the key is on, where the file has it.
        line: Option<usize>,
        /// The key, as written in the file (`button.reboot_after_s`).
        key: &'static str,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

fn at_line(line: &Option<usize>) -> String {
    line.map(|n| format!(" line {n}")).unwrap_or_default()
}

/// A configuration value the panel's rules cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` {problem}")]
pub struct RuleError {
    /// The key, as written in the file (`page.command` in a `[[page]]`).
    pub(crate) key: &'static str,
    /// For a key of a `[[page]]`: which one, counted from 0.
    pub(crate) page: Option<usize>,
    /// What is wrong and what is allowed.
    pub(crate) problem: String,
}

impl RuleError {
    /// A problem with `key` outside the `[[page]]` tables.
    pub(crate) fn new(key: &'static str, problem: impl Into<String>) -> Self {
        RuleError {
            key,
            page: None,
            problem: problem.into(),
        }
    }

    /// The problem as found in the file at `path`, with the line of its key.
    pub(crate) fn in_file(self, path: &Path, lines: &KeyLines) -> ConfigError {
        let line = match self.page {
            Some(index) => lines.page_line(index, self.key),
            None => lines.line(self.key),
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key: self.key,
            problem: self.problem,
        }
    }
}
