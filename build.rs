//! The man pages and the bash, zsh and fish completions, written at build
//! time from the command-line definition (`src/cli.rs`), so that `cargo deb`
//! finds them without a step of its own and the program does not carry the
//! generators.
//!
//! They go beside the binary, in `target/[TRIPLE/]PROFILE/man/` and
//! `…/completions/`: that is where cargo-deb's `target/release/` assets look
//! (it maps the prefix to the target and profile it builds), whereas
//! `OUT_DIR` has a hash in its name.
//!
//! Also the link arguments of the aarch64 release binary (see
//! [`aarch64_release_link_args`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use flate2::write::GzEncoder;
use flate2::Compression;

#[allow(dead_code)] // build.rs uses the definition, not the parsed values
mod cli {
    include!("src/cli.rs");
}

fn main() -> io::Result<()> {
    println!("cargo::rerun-if-changed=src/cli.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is target/[TRIPLE/]PROFILE/build/rackpi-panel-HASH/out
    let profile_dir = out_dir.ancestors().nth(3).ok_or_else(|| {
        io::Error::other(format!(
            "OUT_DIR {} is not inside a target directory",
            out_dir.display()
        ))
    })?;
    aarch64_release_link_args();
    write_man_pages(&profile_dir.join("man"))?;
    write_completions(&profile_dir.join("completions"))
}

/// The aarch64 release binary, the Pi's, kept small (≤ 2.0 MB stripped,
/// docs/benchmarks.md): its segments aligned to 16 KiB instead of the
/// linker's 64 KiB (the Raspberry Pi kernels use 4 KiB pages, the Pi 5's
/// 16 KiB: both load it; a 64 KiB-page kernel would not), and no
/// `.eh_frame_hdr`, the lookup table of unwinding: built with
/// `panic = "abort"`, the binary never unwinds (a panic's backtrace is left
/// without frames). Only the binary of a release build: the test binaries
/// unwind, and the debug build is left as it is.
fn aarch64_release_link_args() {
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("PROFILE") == "release"
        && var("CARGO_CFG_TARGET_ARCH") == "aarch64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
    {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,max-page-size=16384");
        println!("cargo::rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    }
}

/// rackpi-panel.1, and rackpi-panel-NAME.1 for each subcommand it lists
/// (hidden subcommands left out), gzipped as Debian installs man pages
/// (cargo-deb compresses only the files it does not see as built).
fn write_man_pages(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let cli = cli::Cli::command();
    let subcommands = cli.get_subcommands().filter(|sub| !sub.is_hide_set());
    let pages = std::iter::once(cli.clone()).chain(subcommands.map(|sub| {
        sub.clone()
            .name(format!("rackpi-panel-{}", sub.get_name()))
            .bin_name(format!("rackpi-panel {}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"))
    }));
    for command in pages {
        let path = dir.join(format!("{}.1.gz", command.get_name()));
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .section("1")
            .render(&mut page)?;
        write_if_changed(&path, &gzip(&page)?)?;
    }
    Ok(())
}

/// The completion scripts, named as each shell looks them up.
fn write_completions(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (shell, name) in [
        (Shell::Bash, "rackpi-panel"),
        (Shell::Zsh, "_rackpi-panel"),
        (Shell::Fish, "rackpi-panel.fish"),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cli::Cli::command(), "rackpi-panel", &mut script);
        write_if_changed(&dir.join(name), &script)?;
    }
    Ok(())
}

/// `gzip -9n`: the best compression, no name and no time in the header, so
/// the same page gives the same bytes.
fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Leaves an unchanged file alone (its time too), so packaging twice gives
/// the same files.
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
}
