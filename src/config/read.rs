//! Reading the configuration file without ever blocking or reading more
//! than [`MAX_FILE_BYTES`]: a FIFO, a device or a growing file is refused.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::OFlag;

use super::ConfigError;

/// The largest configuration file read: the real one is about 1 KiB, and a
/// limit keeps a wrong path (a log, a disk image) from filling the memory.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The text of the file at `path`, refused unless it is a regular file of
/// at most [`MAX_FILE_BYTES`] of UTF-8.
pub(crate) fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    };
    let not_a_file = |file_type: std::fs::FileType| ConfigError::NotAFile {
        path: path.to_path_buf(),
        kind: file_kind(file_type),
    };
    let too_large = |size| ConfigError::TooLarge {
        path: path.to_path_buf(),
        size,
    };
    // Checked before opening: opening a FIFO without a writer, or a device,
    // has effects of its own.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(not_a_file(metadata.file_type()));
    }
    // O_NONBLOCK: if the path was swapped for a FIFO since the check, the
    // open returns at once instead of waiting for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
        .map_err(read_error)?;
    // The check that counts: the file actually opened.
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(not_a_file(metadata.file_type()));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // One byte past the limit tells a file that grew since the check.
    let mut limited = file.take(MAX_FILE_BYTES + 1);
    limited.read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let now = limited.get_ref().metadata().map_or(0, |m| m.len());
        return Err(too_large(now.max(bytes.len() as u64)));
    }
    String::from_utf8(bytes).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {}): a config file is TOML, which is UTF-8",
            err.utf8_error().valid_up_to()
        ),
    })
}

/// What a file that is not a regular file is, for a message.
pub(crate) fn file_kind(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::time::Duration;

    #[test]
    fn a_file_of_exactly_one_mebibyte_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let limit = MAX_FILE_BYTES as usize;
        std::fs::write(&path, format!("#{}\n", "x".repeat(limit - 2))).unwrap();
        assert_eq!(Config::load(Some(&path)).unwrap(), Config::default());
        std::fs::write(&path, format!("#{}\n", "x".repeat(limit - 1))).unwrap();
        let msg = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(msg.contains("1048577 bytes"), "{msg}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_a_reload() {
        // Config::load is what SIGHUP runs inside the main loop: it must
        // return, not wait for a writer.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.toml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (done, result) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = done.send(Config::load(Some(&path)).map_err(|e| e.to_string()));
        });
        let msg = result
            .recv_timeout(Duration::from_secs(20))
            .expect("Config::load on a FIFO returns instead of blocking")
            .unwrap_err();
        assert!(msg.contains("FIFO"), "{msg}");
        assert!(msg.contains(fifo.to_str().unwrap()), "{msg}");
    }
}
