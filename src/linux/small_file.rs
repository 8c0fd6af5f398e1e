//! A small regular file read whole without waiting on it: a password, a
//! CA. Opened without blocking and checked before it is read, because a
//! careless path names a FIFO nobody writes to (which would hold the
//! reader forever) or `/dev/zero` (which would fill the memory).

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The text of the regular file `file`, at most `limit` bytes; the error
/// says why not (the caller names the file and what it was for).
pub(crate) fn read(file: &Path, limit: u64) -> Result<String, String> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(file)
        .map_err(|err| err.to_string())?;
    if !opened.metadata().map_err(|err| err.to_string())?.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut text = String::new();
    opened
        .take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|err| err.to_string())?;
    if text.len() as u64 > limit {
        return Err(format!("it is longer than {limit} bytes"));
    }
    Ok(text)
}
