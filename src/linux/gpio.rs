//! The button and the LED through the kernel's GPIO character device (uAPI
//! v2, via gpiocdev): lines found by name on any chip, edge events with
//! kernel timestamps, kernel debounce. The only file that knows gpiocdev.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use std::time::Duration;

use gpiocdev::line::{Bias as LineBias, EdgeDetection, EdgeKind, Value};
use gpiocdev::Request;

use crate::app::ports::{EdgeBatch, EdgeSource, GpioError, LedPort};
use crate::config::{Bias, LineSelector};
use crate::linux::missing_between;

/// A line found on a chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLine {
    /// The chip device.
    pub chip: PathBuf,
    /// Offset on the chip.
    pub offset: u32,
    /// The line's name (may be empty for chip + offset lines).
    pub name: String,
    /// The label of whoever holds it, if anyone.
    pub consumer: Option<String>,
}

impl ResolvedLine {
    /// The line's name, or its place for a line without one.
    fn label(&self) -> String {
        if self.name.is_empty() {
            format!("{}:{}", self.chip.display(), self.offset)
        } else {
            self.name.clone()
        }
    }
}

/// Picks the line called `name` from `(chip, offset, name, consumer)` rows,
/// the first chip in name order winning.
pub(crate) fn pick_named<'a, I>(rows: I, name: &str) -> Option<ResolvedLine>
where
    I: IntoIterator<Item = (&'a Path, u32, &'a str, Option<&'a str>)>,
{
    rows.into_iter()
        .find(|(_, _, line, _)| *line == name)
        .map(|(chip, offset, line, consumer)| ResolvedLine {
            chip: chip.to_path_buf(),
            offset,
            name: line.to_string(),
            consumer: consumer.map(str::to_string),
        })
}

fn os_reason(err: &gpiocdev::Error) -> String {
    err.to_string()
}

fn describe(info: &gpiocdev::line::Info) -> Option<String> {
    info.used.then(|| {
        if info.consumer.is_empty() {
            "an unnamed consumer".to_string()
        } else {
            info.consumer.clone()
        }
    })
}

/// Finds the line `selector` names, and who holds it.
pub(crate) fn resolve(selector: &LineSelector) -> Result<ResolvedLine, GpioError> {
    match selector {
        LineSelector::Offset { chip, offset } => {
            let handle = open_chip(chip)?;
            let info = handle.line_info(*offset).map_err(|err| GpioError::Other {
                line: selector.to_string(),
                reason: os_reason(&err),
            })?;
            Ok(ResolvedLine {
                chip: chip.clone(),
                offset: *offset,
                name: info.name.clone(),
                consumer: describe(&info),
            })
        }
        LineSelector::Named(name) => {
            let chips = gpiocdev::chip::chips().map_err(|_| GpioError::NoChips)?;
            if chips.is_empty() {
                return Err(GpioError::NoChips);
            }
            let mut rows = Vec::new();
            let mut first_error = None;
            for chip in &chips {
                match open_chip(chip) {
                    Ok(handle) => {
                        let Ok(iter) = handle.line_info_iter() else {
                            continue;
                        };
                        for info in iter.flatten() {
                            rows.push((
                                chip.clone(),
                                info.offset,
                                info.name.clone(),
                                describe(&info),
                            ));
                        }
                    }
                    Err(err) => {
                        first_error.get_or_insert(err);
                    }
                }
            }
            let found = pick_named(
                rows.iter()
                    .map(|(c, o, n, u)| (c.as_path(), *o, String::as_str(n), u.as_deref())),
                name,
            );
            match (found, first_error) {
                (Some(line), _) => Ok(line),
                (None, Some(err)) => Err(err),
                (None, None) => Err(GpioError::NotFound {
                    name: name.clone(),
                    chips: chips
                        .iter()
                        .map(|c| c.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        }
    }
}

fn open_chip(chip: &Path) -> Result<gpiocdev::Chip, GpioError> {
    if let Err(err) = std::fs::File::open(chip) {
        return Err(match err.kind() {
            std::io::ErrorKind::NotFound => GpioError::NoSuchChip {
                chip: chip.to_path_buf(),
            },
            _ => GpioError::Permission {
                chip: chip.to_path_buf(),
                reason: err.to_string(),
            },
        });
    }
    gpiocdev::Chip::from_path(chip).map_err(|err| GpioError::Other {
        line: chip.display().to_string(),
        reason: os_reason(&err),
    })
}

/// Turns a failed request into a clear error: busy lines name their holder.
fn request_error(selector: &LineSelector, line: &ResolvedLine, err: gpiocdev::Error) -> GpioError {
    if let Ok(now) = resolve(selector) {
        if let Some(consumer) = now.consumer {
            return GpioError::Busy {
                line: selector.to_string(),
                chip: line.chip.clone(),
                offset: line.offset,
                consumer,
            };
        }
    }
    GpioError::Other {
        line: selector.to_string(),
        reason: os_reason(&err),
    }
}

/// How many edges the kernel may queue for the button while the loop is
/// busy (its default is 16): 32 taps' worth.
const KERNEL_EDGE_QUEUE: u32 = 64;

/// The push button: an input line with both-edge events.
pub struct Button {
    request: Request,
    /// Raw events as read from the kernel, many at a time.
    buffer: Vec<u64>,
    /// The line sequence number of the last edge read.
    last_seqno: u32,
    /// Where it was found.
    pub line: ResolvedLine,
    /// Whether the kernel debounces it.
    pub kernel_debounce: bool,
}

impl Button {
    /// Requests the button line (consumer `rackpi-button`).
    pub fn request(
        selector: &LineSelector,
        active_low: bool,
        bias: Bias,
        debounce: Duration,
    ) -> Result<Button, GpioError> {
        let line = resolve(selector)?;
        let build = |with_debounce: bool| {
            let mut builder = Request::builder();
            builder
                .on_chip(&line.chip)
                .with_consumer("rackpi-button")
                .with_line(line.offset)
                .as_input()
                .with_bias(match bias {
                    Bias::Disabled => LineBias::Disabled,
                    Bias::PullUp => LineBias::PullUp,
                    Bias::PullDown => LineBias::PullDown,
                })
                .with_edge_detection(EdgeDetection::BothEdges)
                .with_kernel_event_buffer_size(KERNEL_EDGE_QUEUE);
            if active_low {
                builder.as_active_low();
            }
            if with_debounce {
                builder.with_debounce_period(debounce);
            }
            builder.request()
        };
        let (request, kernel_debounce) = match build(true) {
            Ok(request) => (request, true),
            Err(first) => match build(false) {
                // some chips refuse debounce: the core debounces anyway
                Ok(request) => (request, false),
                Err(_) => return Err(request_error(selector, &line, first)),
            },
        };
        let buffer = vec![0; request.edge_event_u64_size() * KERNEL_EDGE_QUEUE as usize];
        Ok(Button {
            request,
            buffer,
            last_seqno: 0,
            line,
            kernel_debounce,
        })
    }
}

impl Button {
    fn gpio_error(&self, err: gpiocdev::Error) -> GpioError {
        GpioError::Other {
            line: self.line.label(),
            reason: os_reason(&err),
        }
    }
}

impl EdgeSource for Button {
    fn pressed(&self) -> Result<bool, GpioError> {
        let value = self
            .request
            .value(self.line.offset)
            .map_err(|err| self.gpio_error(err))?;
        Ok(value == Value::Active)
    }

    fn read_edges(&mut self) -> Result<Option<EdgeBatch>, GpioError> {
        let mut batch = EdgeBatch::default();
        let event_size = self.request.edge_event_u64_size();
        // read() returns at most what is queued; poll first so it never blocks
        while self
            .request
            .has_edge_event()
            .map_err(|err| self.gpio_error(err))?
        {
            let words = self
                .request
                .read_edge_events_into_slice(&mut self.buffer)
                .map_err(|err| GpioError::Other {
                    line: self.line.label(),
                    reason: os_reason(&err),
                })?;
            for raw in self.buffer[..words].chunks_exact(event_size) {
                let event =
                    self.request
                        .edge_event_from_slice(raw)
                        .map_err(|err| GpioError::Other {
                            line: self.line.label(),
                            reason: os_reason(&err),
                        })?;
                batch.lost += missing_between(self.last_seqno, event.line_seqno);
                self.last_seqno = event.line_seqno;
                batch.edges.push((
                    event.kind == EdgeKind::Rising,
                    Duration::from_nanos(event.timestamp_ns),
                ));
            }
        }
        if batch.edges.is_empty() {
            return Ok(None);
        }
        batch.level = self.pressed()?;
        Ok(Some(batch))
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.request.as_fd()
    }
}

/// The status LED: an output line.
pub struct Led {
    request: Request,
    offset: u32,
    /// Where it was found.
    pub line: ResolvedLine,
}

impl Led {
    /// Requests the LED line (consumer `rackpi-led`), dark at first.
    pub fn request(selector: &LineSelector, active_low: bool) -> Result<Led, GpioError> {
        let line = resolve(selector)?;
        let mut builder = Request::builder();
        builder
            .on_chip(&line.chip)
            .with_consumer("rackpi-led")
            .with_line(line.offset)
            .as_output(Value::Inactive);
        if active_low {
            builder.as_active_low();
        }
        let request = builder
            .request()
            .map_err(|err| request_error(selector, &line, err))?;
        Ok(Led {
            request,
            offset: line.offset,
            line,
        })
    }
}

impl LedPort for Led {
    fn set(&mut self, lit: bool) -> Result<(), GpioError> {
        let value = if lit { Value::Active } else { Value::Inactive };
        self.request
            .set_value(self.offset, value)
            .map_err(|err| GpioError::Other {
                line: self.line.label(),
                reason: os_reason(&err),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_line_is_found_on_whichever_chip_has_it() {
        // a Pi 5 on an older kernel: the header is on gpiochip4
        let rows = [
            (Path::new("/dev/gpiochip0"), 20, "PCIE_PWR", None),
            (
                Path::new("/dev/gpiochip4"),
                20,
                "GPIO20",
                Some("rackpi-button"),
            ),
            (Path::new("/dev/gpiochip4"), 23, "GPIO23", None),
        ];
        let found = pick_named(rows, "GPIO20").unwrap();
        assert_eq!(found.chip, Path::new("/dev/gpiochip4"));
        assert_eq!(found.offset, 20);
        assert_eq!(found.consumer.as_deref(), Some("rackpi-button"));
        assert_eq!(pick_named(rows, "GPIO99"), None);
    }

    #[test]
    fn the_first_chip_wins_when_names_repeat() {
        let rows = [
            (Path::new("/dev/gpiochip0"), 20, "GPIO20", None),
            (Path::new("/dev/gpiochip1"), 3, "GPIO20", None),
        ];
        assert_eq!(
            pick_named(rows, "GPIO20").unwrap().chip,
            Path::new("/dev/gpiochip0")
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let busy = GpioError::Busy {
            line: "GPIO20".into(),
            chip: "/dev/gpiochip0".into(),
            offset: 20,
            consumer: "rackpi-button".into(),
        };
        let text = busy.to_string();
        assert!(text.contains("GPIO20") && text.contains("rackpi-button") && text.contains("busy"));
        let denied = GpioError::Permission {
            chip: "/dev/gpiochip0".into(),
            reason: "Permission denied".into(),
        };
        assert!(denied.to_string().contains("gpio group"));
    }

    #[test]
    fn on_a_machine_without_the_line_the_error_names_it() {
        if let Err(err) = resolve(&LineSelector::Named("NO_SUCH_LINE_XYZ".into())) {
            let text = err.to_string();
            assert!(
                text.contains("NO_SUCH_LINE_XYZ") || text.contains("no GPIO chip"),
                "{text}"
            );
        }
    }
}
