//! The simulator's outputs: events as JSON Lines, one PNG per distinct
//! frame, and (through the bus) the I2C log; and `render`'s PNG.
//!
//! Outputs never destroy what they did not create. Every output is opened
//! and checked before the run starts, without truncating anything; only
//! once all of them are good are regular files emptied and old frames
//! removed. A device or FIFO is written through, never replaced; two
//! outputs on one file, or an output on the config or script, are refused;
//! only the last component of `--frames` is ever created.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Context};
use nix::fcntl::{fcntl, FcntlArg, OFlag};

use crate::app::ports::Reporter;
use crate::core::{Event, Time};
use crate::frame::Frame;
use crate::linux::display::PanelSettings;

use super::terminal::Screen;
use super::{SimBus, PNG_SCALE};

/// An output opened and checked, not yet emptied: a run that cannot start
/// leaves it as it was (and removes it again if it was created here).
pub(crate) struct Output {
    path: PathBuf,
    what: &'static str,
    /// `None`: standard output.
    file: Option<File>,
    regular: bool,
    /// What this run created (removed again if the run does not start).
    created: Option<PathBuf>,
}

/// Opens `path` for writing without following it into a FIFO that has no
/// reader (which would block for ever) and without truncating anything.
/// The file is returned with the path of what was created, if it was: the
/// target of a dangling symlink is created where the link points, and that
/// is what a run that does not start removes again (not the link).
fn open_for_writing(path: &Path) -> std::io::Result<(File, Option<PathBuf>)> {
    let existed = std::fs::metadata(path).is_ok();
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)?;
    let created = (!existed).then(|| std::fs::canonicalize(path).unwrap_or_else(|_| path.into()));
    // blocking again for the writes themselves
    let flags = OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL)?);
    fcntl(&file, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
    Ok((file, created))
}

/// Names the problem of opening `path` as an output, and what to do.
fn open_error(err: std::io::Error, path: &Path, what: &str) -> anyhow::Error {
    // open(2) refuses a socket with ENXIO, as it does a FIFO without a reader
    if std::fs::metadata(path).is_ok_and(|meta| meta.file_type().is_socket()) {
        return not_an_output(path, what, "a socket");
    }
    let hint = match err.raw_os_error() {
        Some(nix::libc::ENXIO) => " (a FIFO with no reader: start the reader first)",
        Some(nix::libc::EISDIR) => " (it is a directory: give a file name)",
        _ => "",
    };
    anyhow::anyhow!(
        "cannot open the {what} file {}: {err}{hint}",
        path.display()
    )
}

/// `path` is a block device or a socket, which no output writes to.
fn not_an_output(path: &Path, what: &str, kind: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the {what} file {} is {kind}: give a regular file, a FIFO or a character device",
        path.display()
    )
}

impl Output {
    /// Opens `path` (`-` = standard output) without changing it.
    pub(crate) fn open(path: &Path, what: &'static str) -> anyhow::Result<Output> {
        if path == Path::new("-") {
            return Ok(Output {
                path: path.into(),
                what,
                file: None,
                regular: false,
                created: None,
            });
        }
        let (file, created) = open_for_writing(path).map_err(|err| open_error(err, path, what))?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot inspect the {what} file {}", path.display()))?;
        let kind = meta.file_type();
        let mut output = Output {
            path: path.into(),
            what,
            file: Some(file),
            regular: kind.is_file(),
            created,
        };
        if kind.is_block_device() || kind.is_socket() {
            output.abandon();
            return Err(not_an_output(path, what, what_is(kind)));
        }
        Ok(output)
    }

    /// Device and inode, to find two names for one file (standard output's
    /// for `-`); none for the null device, which any number of outputs
    /// may share.
    fn identity(&self) -> Option<(u64, u64)> {
        let meta = match &self.file {
            Some(file) => file.metadata().ok()?,
            None => std::os::fd::AsFd::as_fd(&std::io::stdout())
                .try_clone_to_owned()
                .map(File::from)
                .and_then(|out| out.metadata())
                .ok()?,
        };
        let null = std::fs::metadata("/dev/null").ok();
        if meta.file_type().is_char_device() && null.is_some_and(|n| n.rdev() == meta.rdev()) {
            return None;
        }
        Some((meta.dev(), meta.ino()))
    }

    /// The run starts: a regular file is emptied now, and the writer returned.
    pub(crate) fn start(self) -> anyhow::Result<Box<dyn Write>> {
        let Some(file) = self.file else {
            return Ok(Box::new(std::io::stdout()));
        };
        if self.regular {
            file.set_len(0).with_context(|| {
                format!(
                    "cannot empty the {} file {}",
                    self.what,
                    self.path.display()
                )
            })?;
        }
        Ok(Box::new(std::io::BufWriter::new(file)))
    }

    /// The run does not start: a file created here is removed again.
    pub(crate) fn abandon(&mut self) {
        if let (Some(created), Some(_)) = (self.created.take(), self.file.take()) {
            let _ = std::fs::remove_file(created);
        }
    }
}

/// Refuses two outputs on one file (by any name), both on standard output,
/// or an output on one of the run's inputs (the config, the script).
pub(crate) fn check_distinct(outputs: &[&Output], inputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (i, a) in outputs.iter().enumerate() {
        for b in &outputs[i + 1..] {
            let both_stdout = a.file.is_none() && b.file.is_none();
            if both_stdout || (a.identity().is_some() && a.identity() == b.identity()) {
                bail!(
                    "the {} and the {} would both be written to {}: give each its own file",
                    a.what,
                    b.what,
                    match (&a.file, &b.file) {
                        (None, _) | (_, None) => "standard output".into(),
                        _ => a.path.display().to_string(),
                    }
                );
            }
        }
        let Some(id) = a.file.as_ref().and(a.identity()) else {
            continue;
        };
        for (name, path) in inputs {
            let input = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
            if input == Some(id) {
                bail!(
                    "the {} file {} is the {name}: writing it would destroy it; give another file",
                    a.what,
                    a.path.display()
                );
            }
        }
    }
    Ok(())
}

/// Whether `name` is one this program gives frames (or their temporary files).
fn is_frame_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("frame-") else {
        return false;
    };
    let rest = rest
        .strip_suffix(".png.tmp")
        .or_else(|| rest.strip_suffix(".png"));
    let Some((ms, n)) = rest.and_then(|r| r.split_once("ms-")) else {
        return false;
    };
    ms.len() == 9
        && n.len() >= 5
        && ms.bytes().all(|b| b.is_ascii_digit())
        && n.bytes().all(|b| b.is_ascii_digit())
}

/// The frames directory, checked: created here (only its last component),
/// or an existing one that is empty or holds only frames this program
/// wrote, which are removed when the run starts if `--replace-frames` asked.
pub(crate) struct FramesDir {
    path: PathBuf,
    created: bool,
    old_frames: Vec<PathBuf>,
}

impl FramesDir {
    pub(crate) fn prepare(dir: &Path, replace: bool) -> anyhow::Result<FramesDir> {
        let created = match std::fs::create_dir(dir) {
            Ok(()) => true,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                if !dir.is_dir() {
                    bail!(
                        "the frames directory {} is not a directory: give a new or empty directory",
                        dir.display()
                    );
                }
                false
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "cannot create the frames directory {}: its parent directory does not exist (only the last part of the path is created)",
                dir.display()
            ),
            Err(err) => bail!("cannot create the frames directory {}: {err}", dir.display()),
        };
        let mut frames_dir = FramesDir {
            path: dir.into(),
            created,
            old_frames: Vec::new(),
        };
        if let Err(err) = frames_dir.check(replace) {
            frames_dir.abandon();
            return Err(err);
        }
        Ok(frames_dir)
    }

    fn check(&mut self, replace: bool) -> anyhow::Result<()> {
        let dir = &self.path;
        if !self.created {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read the frames directory {}", dir.display()))?;
            let mut others = Vec::new();
            for entry in entries {
                let entry = entry.with_context(|| {
                    format!("cannot read the frames directory {}", dir.display())
                })?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_frame_name(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
                    self.old_frames.push(entry.path());
                } else {
                    others.push(name);
                }
            }
            if let Some(first) = others.first() {
                bail!(
                    "the frames directory {} holds files this program did not write ({} of them, e.g. {first}): give a new or empty directory",
                    dir.display(),
                    others.len()
                );
            }
            if !self.old_frames.is_empty() && !replace {
                bail!(
                    "the frames directory {} holds {} frames of an earlier run: give a new directory, or add --replace-frames to delete them first",
                    dir.display(),
                    self.old_frames.len()
                );
            }
        }
        // a probe of a name nobody else uses, created exclusively: it
        // follows no symlink and truncates nothing
        let probe = dir.join(format!(".rackpi-panel-probe-{}", std::process::id()));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
            .with_context(|| format!("cannot write into the frames directory {}", dir.display()))?;
        std::fs::remove_file(&probe).ok();
        Ok(())
    }

    /// The run starts: the earlier run's frames go.
    pub(crate) fn start(self) -> anyhow::Result<PathBuf> {
        for old in &self.old_frames {
            std::fs::remove_file(old)
                .with_context(|| format!("cannot remove the old frame {}", old.display()))?;
        }
        Ok(self.path)
    }

    /// The run does not start: a directory created here is removed again.
    pub(crate) fn abandon(&mut self) {
        if self.created {
            let _ = std::fs::remove_dir(&self.path);
            self.created = false;
        }
    }
}

/// A file that is no output, as a message names it.
fn what_is(kind: std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else {
        "a special file"
    }
}

/// Writes `bytes` to `path` as a user would expect of an output file: `-`
/// is standard output; a new or regular file is replaced whole (a temporary
/// file beside it, then a rename); a FIFO or character device is written
/// through; a symlink is followed; anything else is refused.
pub fn write_output_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.display();
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        return out
            .write_all(bytes)
            .and_then(|()| out.flush())
            .with_context(|| "cannot write to standard output".to_string());
    }
    let target = match std::fs::canonicalize(path) {
        Ok(target) => target,
        Err(_) => path.to_path_buf(),
    };
    match std::fs::metadata(&target) {
        Ok(meta) if meta.file_type().is_fifo() || meta.file_type().is_char_device() => {
            let (mut file, _) =
                open_for_writing(&target).map_err(|err| open_error(err, path, "output"))?;
            file.write_all(bytes)
                .with_context(|| format!("cannot write to {name}"))?;
            Ok(())
        }
        Ok(meta) if !meta.is_file() => bail!(
            "{name} is {}, not a regular file: give a file name",
            what_is(meta.file_type())
        ),
        _ => {
            let dir = match target.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let file_name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
            let written = (|| -> std::io::Result<()> {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o644)
                    .open(&tmp)?;
                file.write_all(bytes)?;
                file.sync_all().ok();
                std::fs::rename(&tmp, &target)
            })();
            if let Err(err) = written {
                let _ = std::fs::remove_file(&tmp);
                bail!("cannot write {name}: {err}");
            }
            Ok(())
        }
    }
}

/// Writes events as JSON Lines, frames as PNGs, and keeps a summary.
pub(crate) struct SimReporter {
    pub(crate) events_out: Option<Box<dyn Write>>,
    pub(crate) events_error: Option<std::io::Error>,
    pub(crate) frames_dir: Option<PathBuf>,
    pub(crate) frames_error: Option<anyhow::Error>,
    pub(crate) bus: SimBus,
    pub(crate) rows: usize,
    pub(crate) upside_down: bool,
    pub(crate) last_frame: Option<Frame>,
    pub(crate) seen_transactions: Option<u64>,
    pub(crate) frames: u64,
    pub(crate) events: u64,
    pub(crate) echo: Option<Rc<RefCell<Screen>>>,
}

impl SimReporter {
    /// Events to `events_out`, and each distinct picture of the panel on
    /// `bus` as a PNG in `frames_dir`.
    pub(crate) fn new(
        bus: SimBus,
        panel: &PanelSettings,
        events_out: Option<Box<dyn Write>>,
        frames_dir: Option<PathBuf>,
    ) -> Self {
        SimReporter {
            events_out,
            events_error: None,
            frames_dir,
            frames_error: None,
            bus,
            rows: panel.size.dimensions().1 as usize,
            upside_down: panel.upside_down,
            last_frame: None,
            seen_transactions: None,
            frames: 0,
            events: 0,
            echo: None,
        }
    }
}

/// One line of the events file: the time, then the event and its details.
#[derive(serde::Serialize)]
struct Record<'a> {
    t_ms: u64,
    #[serde(flatten)]
    event: &'a Event,
}

impl Reporter for SimReporter {
    fn event(&mut self, at: Time, event: &Event) {
        log::debug!("{:>8} ms  {}", at.as_millis(), event.name());
        self.events += 1;
        if let Some(screen) = self.echo.as_ref() {
            screen.borrow_mut().event(at, event);
        }
        if let Some(out) = self.events_out.as_mut() {
            let record = Record {
                t_ms: at.as_millis() as u64,
                event,
            };
            let written = serde_json::to_writer(&mut *out, &record)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(err) = written {
                self.events_out = None;
                self.events_error = Some(err);
            }
        }
    }

    fn settled(&mut self, at: Time) {
        // nothing was written since the last look: the picture is the same
        let transactions = self.bus.state().counters.transactions;
        if self.echo.is_none() && self.seen_transactions == Some(transactions) {
            return;
        }
        self.seen_transactions = Some(transactions);
        let frame = self.bus.state().model.visible(self.rows, self.upside_down);
        if let Some(screen) = self.echo.as_ref() {
            // repainted every wake-up, so the LED's blinking shows too
            screen.borrow_mut().frame(&frame);
        }
        if self.last_frame.as_ref() == Some(&frame) {
            return;
        }
        self.frames += 1;
        if let (Some(dir), None) = (&self.frames_dir, &self.frames_error) {
            let name = format!("frame-{:09}ms-{:05}.png", at.as_millis(), self.frames);
            if let Err(err) = frame.write_png(&dir.join(&name), PNG_SCALE) {
                self.frames_error =
                    Some(anyhow::Error::new(err).context(format!("cannot write frame {name}")));
            }
        }
        self.last_frame = Some(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_names_are_recognised_and_nothing_else() {
        assert!(is_frame_name("frame-000001234ms-00001.png"));
        assert!(is_frame_name("frame-000001234ms-00001.png.tmp"));
        assert!(is_frame_name("frame-000001234ms-123456.png"));
        for other in [
            "frame-1ms-00001.png",
            "notes.txt",
            "frame-000001234ms-0001x.png",
            "frame-.png",
        ] {
            assert!(!is_frame_name(other), "{other}");
        }
    }
}
