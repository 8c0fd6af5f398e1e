//! The `rackpi-panel` command: parse the command line, start logging, hand
//! the subcommand to the library ([`rackpi_panel::cmd`]), exit with the
//! status it decided. Nothing else happens here.

use std::process::ExitCode;

use clap::Parser;

use rackpi_panel::cli::Cli;
use rackpi_panel::cmd;

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::init_logging(cli.verbose, &cli.command);
    match cmd::dispatch(cli.command) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
