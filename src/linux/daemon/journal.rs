//! Log lines for the systemd journal: whether stderr is its stream, and the
//! priority prefix each level gets there.

use std::os::fd::AsFd;

/// Whether stderr is the systemd journal's stream for this service: the
/// device and inode in `JOURNAL_STREAM` are stderr's own (a child that
/// inherited the variable but writes elsewhere gets plain lines).
pub fn stderr_is_journal() -> bool {
    let Some((dev, ino)) = std::env::var("JOURNAL_STREAM").ok().and_then(|value| {
        let (dev, ino) = value.split_once(':')?;
        Some((dev.parse::<u64>().ok()?, ino.parse::<u64>().ok()?))
    }) else {
        return false;
    };
    use std::os::unix::fs::MetadataExt;
    // through a duplicate, for MetadataExt's u64 fields on every target
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).metadata())
        .is_ok_and(|meta| meta.dev() == dev && meta.ino() == ino)
}

/// The syslog priority the journal reads from a `<N>` line prefix.
pub fn journal_priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}
