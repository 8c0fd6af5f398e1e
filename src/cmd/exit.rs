//! The exit status, decided in one place: a configuration that cannot be
//! used is 78 (`EX_CONFIG`, which the unit does not restart on), a bad
//! command line 2 (as clap's own), any other failure 1.

use std::process::ExitCode;

use crate::config::{ConfigError, EXIT_CONFIG};

/// Why a subcommand failed, as far as the exit status cares.
#[derive(Debug)]
pub enum Failure {
    /// The configuration cannot be used: fix the file (exit 78).
    Config(anyhow::Error),
    /// The command line names something that is not there, found only after
    /// parsing (a `render --screen` that does not exist): clap's message and
    /// usage, exit 2.
    CommandLine(clap::Error),
    /// Anything else (exit 1).
    Failed(anyhow::Error),
}

impl Failure {
    /// The exit status this failure ends the command with.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Config(_) => ExitCode::from(EXIT_CONFIG as u8),
            Failure::CommandLine(bad_command_line) => {
                ExitCode::from(bad_command_line.exit_code() as u8)
            }
            Failure::Failed(_) => ExitCode::FAILURE,
        }
    }

    /// Prints the message on stderr (`rackpi-panel: ` and the whole chain of
    /// causes; clap's own form for a bad command line) and gives the exit
    /// status.
    pub fn report(self) -> ExitCode {
        match &self {
            // print() fails only when stderr is gone: nothing to tell then
            Failure::CommandLine(bad_command_line) => drop(bad_command_line.print()),
            Failure::Config(err) | Failure::Failed(err) => eprintln!("rackpi-panel: {err:#}"),
        }
        self.exit_code()
    }
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Failure::Config(err.into())
    }
}

impl From<clap::Error> for Failure {
    fn from(err: clap::Error) -> Self {
        Failure::CommandLine(err)
    }
}

impl From<anyhow::Error> for Failure {
    /// The daemon answers with `anyhow`, and some of what it finds only once
    /// it opens the hardware is the configuration's fault (a line the chip
    /// does not have): that is still exit 78.
    fn from(err: anyhow::Error) -> Self {
        if err.downcast_ref::<ConfigError>().is_some() {
            Failure::Config(err)
        } else {
            Failure::Failed(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_problem() -> ConfigError {
        ConfigError::Invalid {
            path: "/etc/rackpi-panel/config.toml".into(),
            line: Some(7),
            key: "led.offset",
            problem: "is the button's line too".into(),
        }
    }

    #[test]
    fn a_configuration_the_daemon_finds_unusable_exits_78_like_one_refused_on_load() {
        let on_load = Failure::from(config_problem());
        let in_daemon = Failure::from(anyhow::Error::from(config_problem()));
        let behind_context =
            Failure::from(anyhow::Error::from(config_problem()).context("cannot use the LED"));
        for failure in [on_load, in_daemon, behind_context] {
            assert_eq!(failure.exit_code(), ExitCode::from(78), "{failure:?}");
        }
    }

    #[test]
    fn other_failures_exit_1_and_a_bad_command_line_2() {
        let failed = Failure::from(anyhow::anyhow!("the daemon is not running"));
        assert_eq!(failed.exit_code(), ExitCode::FAILURE);
        let bad_command_line =
            Failure::from(clap::Error::new(clap::error::ErrorKind::InvalidValue));
        assert_eq!(bad_command_line.exit_code(), ExitCode::from(2));
    }
}
