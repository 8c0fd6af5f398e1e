//! The system page's figures that may wait on the world: the temperature
//! (a thermal zone can be an I2C sensor behind a slow or stuck bus), the
//! root filesystem's usage (statvfs on an NFS root waits for the server) and
//! the Pi firmware's throttling. One long-lived worker thread reads them;
//! the loop never waits for it longer than [`ANSWER_WAIT`]. The same thread
//! keeps the watch of SPEC §10: every `poll_s` it reads the temperature and
//! the firmware's under-voltage, and only when one changed does it send the
//! core an input and wake the loop.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use crate::core::Input;
use crate::linux::firmware::SupplyFiles;
use crate::stats::Throttling;

/// The longest a sample waits for a fresh reading from an idle worker. A
/// thermal zone on the SoC answers in microseconds, so the figure shown is
/// that of this refresh; a reading still running from an earlier refresh
/// is not waited for at all, and the last figures are shown meanwhile.
pub(crate) const ANSWER_WAIT: Duration = Duration::from_millis(20);

/// The first thermal zone, under the sysfs root: the SoC's on a Pi.
pub(crate) const THERMAL_ZONE: &str = "class/thermal/thermal_zone0/temp";

/// What the worker read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Readings {
    /// Degrees Celsius; `None` where the zone cannot be read.
    pub temperature_c: Option<f32>,
    /// Used share of the filesystem, as `df` counts it.
    pub disk_percent: Option<f32>,
    /// What the Pi firmware does to the clocks now (all false: not a Pi).
    pub throttling: Throttling,
}

/// Where the readings come from.
#[derive(Debug, Clone)]
pub(crate) struct SensorPaths {
    /// A file holding millidegrees Celsius.
    pub temperature: PathBuf,
    /// Any path on the filesystem whose usage is shown.
    pub filesystem: PathBuf,
    /// Where sysfs is mounted: the Pi firmware's files are looked for under it.
    pub sysfs: PathBuf,
}

impl SensorPaths {
    /// The first thermal zone and the firmware's files under `sysfs`, and
    /// the root filesystem.
    pub fn under(sysfs: &Path) -> SensorPaths {
        SensorPaths {
            temperature: sysfs.join(THERMAL_ZONE),
            filesystem: "/".into(),
            sysfs: sysfs.into(),
        }
    }
}

impl Default for SensorPaths {
    fn default() -> Self {
        SensorPaths::under(Path::new("/sys"))
    }
}

/// The watch of SPEC §10: what the worker reads every `every` for the
/// core, and where it sends what changed.
pub struct Watch {
    /// How often (`[attention] poll_s`).
    pub every: Duration,
    /// The loop's inputs: `Temperature` and the `power` condition.
    pub inputs: SyncSender<Input>,
    /// Gets a byte after each input sent, to wake the loop.
    pub waker: UnixStream,
}

/// How many inputs may wait for the loop (two kinds, latest-state only).
pub const WATCH_QUEUE: usize = 8;

/// The worker, started at the first reading asked for (or at once, with a watch).
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

    /// Starts the worker now, keeping `watch` as well as answering.
    pub fn watch(&mut self, watch: Watch) {
        self.worker = self.start(Some(watch));
    }

    /// The freshest readings available within [`ANSWER_WAIT`]: those of
    /// this call when the worker answers in time, else the last ones.
    pub fn read(&mut self) -> Readings {
        if self.worker.is_none() {
            self.worker = self.start(None);
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

    fn start(&self, watch: Option<Watch>) -> Option<Worker> {
        let (requests, requested) = mpsc::channel::<()>();
        let (answer, answers) = mpsc::channel();
        let paths = self.paths.clone();
        let spawned = std::thread::Builder::new()
            .name("rackpi-sensors".into())
            .spawn(move || work(&paths, &requested, &answer, watch));
        match spawned {
            Ok(_) => Some(Worker {
                requests,
                answers,
                pending: false,
            }),
            Err(err) => {
                log::warn!(
                    "cannot start the sensor reader ({err}): temperature, disk and power are not shown nor watched"
                );
                None
            }
        }
    }
}

/// The worker's life: answers each request; with a watch, reads for the
/// core every `watch.every` between them. Ends when the loop's side is dropped.
fn work(
    paths: &SensorPaths,
    requested: &Receiver<()>,
    answer: &Sender<Readings>,
    watch: Option<Watch>,
) {
    // (a few directory listings: once, here, off the loop)
    let supply = SupplyFiles::find(&paths.sysfs);
    let mut watched = watch.map(|watch| Watched::new(watch, supply.present()));
    let mut due = Instant::now();
    loop {
        let request = match &watched {
            Some(_) => requested.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => requested.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match request {
            Ok(()) => {
                let readings = Readings {
                    temperature_c: read_temperature(&paths.temperature),
                    disk_percent: filesystem_usage(&paths.filesystem),
                    throttling: supply.read().unwrap_or_default(),
                };
                if answer.send(readings).is_err() {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(w) = watched.as_mut() {
                    w.look(read_temperature(&paths.temperature), &supply);
                    // on the grid, unless the thread was held up past a tick
                    due = (due + w.watch.every).max(Instant::now());
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

/// The watch and what it last told the loop.
struct Watched {
    watch: Watch,
    /// Whether the firmware's files exist (false: under-voltage is not watched).
    supply: bool,
    temperature: Option<f32>,
    under_voltage: bool,
}

impl Watched {
    fn new(watch: Watch, supply: bool) -> Watched {
        Watched {
            watch,
            supply,
            temperature: None,
            under_voltage: false,
        }
    }

    /// One look: sends what changed since the last one the loop took.
    fn look(&mut self, temperature: Option<f32>, files: &SupplyFiles) {
        let mut sent = false;
        // (to a tenth of a degree: the core's threshold is no finer)
        let tenths = |t: Option<f32>| t.map(|t| (t * 10.0).round());
        // (`send` is last: only a change is sent)
        if temperature.is_some()
            && tenths(temperature) != tenths(self.temperature)
            && self.send(Input::Temperature(temperature))
        {
            self.temperature = temperature;
            sent = true;
        }
        let under_voltage =
            self.supply && files.read().map_or(self.under_voltage, |t| t.under_voltage);
        if under_voltage != self.under_voltage && self.send(Input::under_voltage(under_voltage)) {
            self.under_voltage = under_voltage;
            sent = true;
        }
        if sent {
            let _ = (&self.watch.waker).write_all(&[1]);
        }
    }

    /// Whether the loop took `input` (a full queue: it is sent again at
    /// the next look, as nothing is marked as told).
    fn send(&self, input: Input) -> bool {
        self.watch.inputs.try_send(input).is_ok()
    }
}

/// A thermal zone's temperature: whole millidegrees, as the kernel writes
/// them (`48250`). Anything else (`1e30`, `inf`, a file that never ends
/// under a careless sysfs root) is no reading, not a figure of 10²⁷ °C.
fn read_temperature(path: &Path) -> Option<f32> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(32)
        .read_to_string(&mut text)
        .ok()?;
    let millidegrees: i32 = text.trim().parse().ok()?;
    Some(millidegrees as f32 / 1000.0)
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
            sysfs: dir.path().into(),
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

    #[test]
    fn a_zone_that_gives_no_whole_millidegrees_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let zone = dir.path().join("temp");
        for text in [
            "1e30\n",
            "inf\n",
            "NaN\n",
            "-\n",
            "abc\n",
            "99999999999999999999\n",
        ] {
            std::fs::write(&zone, text).unwrap();
            assert_eq!(read_temperature(&zone), None, "{text:?}");
        }
        // a zone that never ends (a careless sysfs root) is not read whole
        let endless = "1".repeat(50_000_000);
        std::fs::write(&zone, &endless).unwrap();
        assert_eq!(read_temperature(&zone), None);
        std::fs::write(&zone, "-5500\n").unwrap();
        assert_eq!(read_temperature(&zone), Some(-5.5));
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
            sysfs: dir.path().into(),
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
