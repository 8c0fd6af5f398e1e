//! Where log lines go: stderr, with the journal's priority prefixes under
//! systemd, or the event pane of the interactive simulator.

use crate::cli::Command;
use crate::linux::daemon::{journal_priority, stderr_is_journal};
use crate::sim::terminal::{stdout_is_terminal, PaneLog};

/// Log lines on stderr: under systemd with the journal's priority prefixes
/// (`journalctl -p err` works, the journal adds the time); in the
/// interactive simulator into its event pane.
pub fn init_logging(verbose: bool, command: &Command) {
    let default_level = if verbose { "debug" } else { "info" };
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level));
    if stderr_is_journal() {
        builder.format(|buf, record| {
            use std::io::Write;
            let priority = journal_priority(record.level());
            writeln!(buf, "<{priority}>{}", record.args())
        });
    }
    if matches!(command, Command::Simulate { script: None, .. }) && stdout_is_terminal() {
        builder.target(env_logger::Target::Pipe(Box::new(PaneLog)));
    }
    builder.init();
}
