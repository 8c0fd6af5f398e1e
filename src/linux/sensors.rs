//! The system page's figures that may wait on the world: the temperature
//! (a thermal zone can be an I2C sensor behind a slow or stuck bus) and the
//! root filesystem's usage (statvfs on an NFS root waits for the server).
//! One long-lived worker thread reads them; the loop never waits for it
//! longer than [`ANSWER_WAIT`].

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::Duration;

/// The longest a sample waits for a fresh reading from an idle worker. A
/// thermal zone on the SoC answers in microseconds, so the figure shown is
/// that of this refresh; a reading still running from an earlier refresh
/// is not waited for at all, and the last figures are shown meanwhile.
pub(crate) const ANSWER_WAIT: Duration = Duration::from_millis(20);

/// The first thermal zone: the SoC's on a Pi.
pub(crate) const THERMAL_ZONE: &str = "/sys/class/thermal/thermal_zone0/temp";

/// What the worker read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Readings {
    /// Degrees Celsius; `None` where the zone cannot be read.
    pub temperature_c: Option<f32>,
    /// Used share of the filesystem, as `df` counts it.
    pub disk_percent: Option<f32>,
}

/// Where the readings come from.
#[derive(Debug, Clone)]
pub(crate) struct SensorPaths {
    /// A file holding millidegrees Celsius.
    pub temperature: PathBuf,
    /// Any path on the filesystem whose usage is shown.
    pub filesystem: PathBuf,
}

impl Default for SensorPaths {
    fn default() -> Self {
        SensorPaths {
            temperature: THERMAL_ZONE.into(),
            filesystem: "/".into(),
        }
    }
}

/// The worker, started at the first reading asked for.
pub(crate) struct Sensors {
    paths: SensorPaths,
    worker: Option<Worker>,
    last: Readings,
}

struct Worker {
    requests: Sender<()>,
    answers: Receiver<Readings>,
    /// A request was sent and not answered yet.
    pending: bool,
}

impl Sensors {
    /// Reads from `paths` once asked (no thread until then).
    pub fn new(paths: SensorPaths) -> Sensors {
        Sensors {
            paths,
            worker: None,
            last: Readings::default(),
        }
    }

    /// The freshest readings available within [`ANSWER_WAIT`]: those of
    /// this call when the worker answers in time, else the last ones.
    pub fn read(&mut self) -> Readings {
        if self.worker.is_none() {
            self.worker = self.start();
        }
        let Some(worker) = self.worker.as_mut() else {
            return self.last;
        };
        if worker.pending {
            match worker.answers.try_recv() {
                Ok(readings) => {
                    self.last = readings;
                    worker.pending = false;
                }
                Err(TryRecvError::Empty) => return self.last,
                Err(TryRecvError::Disconnected) => {
                    self.worker = None;
                    return self.last;
                }
            }
        }
        if worker.requests.send(()).is_err() {
            self.worker = None;
            return self.last;
        }
        worker.pending = true;
        match worker.answers.recv_timeout(ANSWER_WAIT) {
            Ok(readings) => {
                self.last = readings;
                worker.pending = false;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.worker = None,
        }
        self.last
    }

    fn start(&self) -> Option<Worker> {
        let (requests, requested) = mpsc::channel::<()>();
        let (answer, answers) = mpsc::channel();
        let paths = self.paths.clone();
        let spawned = std::thread::Builder::new()
            .name("rackpi-sensors".into())
            .spawn(move || {
                // ends when the loop's side is dropped
                while requested.recv().is_ok() {
                    let readings = Readings {
                        temperature_c: read_temperature(&paths.temperature),
                        disk_percent: filesystem_usage(&paths.filesystem),
                    };
                    if answer.send(readings).is_err() {
                        break;
                    }
                }
            });
        match spawned {
            Ok(_) => Some(Worker {
                requests,
                answers,
                pending: false,
            }),
            Err(err) => {
                log::warn!(
                    "cannot start the sensor reader ({err}): temperature and disk are not shown"
                );
                None
            }
        }
    }
}

/// A thermal zone's temperature.
fn read_temperature(path: &Path) -> Option<f32> {
    let text = std::fs::read_to_string(path).ok()?;
    let millidegrees: f32 = text.trim().parse().ok()?;
    Some(millidegrees / 1000.0)
}

/// Used share of the filesystem holding `path`, as `df` counts it.
fn filesystem_usage(path: &Path) -> Option<f32> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    let total = stat.blocks() as f64;
    let free = stat.blocks_free() as f64;
    let available = stat.blocks_available() as f64;
    let used = total - free;
    let denominator = used + available;
    (denominator > 0.0).then(|| (used * 100.0 / denominator) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_thermal_zone_that_never_answers_holds_up_no_sample() {
        let dir = tempfile::tempdir().unwrap();
        // a FIFO without a writer: opening it waits, like a stuck bus
        let zone = dir.path().join("temp");
        nix::unistd::mkfifo(&zone, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let mut sensors = Sensors::new(SensorPaths {
            temperature: zone.clone(),
            filesystem: dir.path().into(),
        });
        // the samples run on a thread of their own so that a blocking read
        // fails the test instead of hanging it
        let (done, finished) = mpsc::channel();
        let sampler = std::thread::spawn(move || {
            let started = Instant::now();
            let readings: Vec<Readings> = (0..20).map(|_| sensors.read()).collect();
            done.send(started.elapsed()).unwrap();
            (sensors, readings)
        });
        let took = finished
            .recv_timeout(Duration::from_secs(10))
            .expect("20 samples took over 10 s: a sample waited for the stuck thermal zone");
        let (mut sensors, readings) = sampler.join().unwrap();
        assert!(took < Duration::from_secs(2), "20 samples took {took:?}");
        assert!(readings.iter().all(|r| r.temperature_c.is_none()));
        // the sensor comes back: the next samples show it
        std::fs::write(&zone, "48250\n").unwrap();
        let last = read_until(&mut sensors, |r| r.temperature_c.is_some());
        assert_eq!(last.temperature_c, Some(48.25));
        let disk = last.disk_percent.expect("the temporary directory's usage");
        assert!((0.0..=100.0).contains(&disk), "{disk}");
    }

    /// Reads until `wanted` holds (the worker answers within 10 s).
    fn read_until(sensors: &mut Sensors, wanted: impl Fn(&Readings) -> bool) -> Readings {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = sensors.read();
        while !wanted(&last) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            last = sensors.read();
        }
        last
    }

    #[test]
    fn the_figures_follow_the_thermal_zone() {
        let dir = tempfile::tempdir().unwrap();
        let zone = dir.path().join("temp");
        std::fs::write(&zone, "41000\n").unwrap();
        let mut sensors = Sensors::new(SensorPaths {
            temperature: zone.clone(),
            filesystem: dir.path().into(),
        });
        let first = read_until(&mut sensors, |r| r.temperature_c.is_some());
        assert_eq!(first.temperature_c, Some(41.0));
        std::fs::write(&zone, "52500\n").unwrap();
        let warmer = read_until(&mut sensors, |r| r.temperature_c != Some(41.0));
        assert_eq!(warmer.temperature_c, Some(52.5));
        std::fs::write(&zone, "garbage\n").unwrap();
        let unreadable = read_until(&mut sensors, |r| r.temperature_c != Some(52.5));
        assert_eq!(
            unreadable.temperature_c, None,
            "a zone that reads garbage shows none"
        );
    }
}
