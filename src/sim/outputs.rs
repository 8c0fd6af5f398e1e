//! The simulator's outputs: events as JSON Lines, one PNG per distinct
//! frame, and (through the bus) the I2C log.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::core::{Event, Time};
use crate::frame::Frame;
use crate::ports::Reporter;

use super::terminal::Screen;
use super::{SimBus, PNG_SCALE};

/// Opens `path` for writing, `-` meaning standard output.
pub(crate) fn create_output(path: &Path, what: &str) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdout()));
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create the {what} file {}", path.display()))?;
    Ok(Box::new(std::io::BufWriter::new(file)))
}

pub(crate) fn prepare_frames_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the frames directory {}", dir.display()))?;
    let probe = dir.join(".rackpi-panel-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write into the frames directory {}", dir.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
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
    pub(crate) echo: Option<Screen>,
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
        if let Some(screen) = self.echo.as_mut() {
            screen.event(at, event);
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
        if let Some(screen) = self.echo.as_mut() {
            // repainted every wake-up, so the LED's blinking shows too
            screen.frame(&frame);
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
