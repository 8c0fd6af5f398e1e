//! The real hardware adapters: GPIO (the kernel's character device through
//! gpiocdev, or optionally rppal), the SSD1306 display over i2c-dev, the
//! system's statistics and the power commands; the daemon that wires them to
//! the loop, and the `check` and `off` commands.

pub mod addresses;
pub mod check;
pub mod daemon;
pub mod display;
mod firmware;
pub mod gpio;
pub(crate) mod mqtt;
pub mod netlink;
pub mod notify;
pub mod nut;
pub mod off;
mod page_worker;
pub mod pages;
pub mod power;
#[cfg(feature = "rppal")]
mod rppal_backend;
pub mod sensors;
mod small_file;
pub mod stats;
#[cfg(not(target_env = "musl"))]
pub mod units;
#[cfg(target_env = "musl")]
#[path = "units_musl.rs"]
pub mod units;
pub mod ups;

/// Counts the edges missing between two sequence numbers (the kernel
/// numbers a line's edges from 1 and drops the oldest when its queue is full).
fn missing_between(last: u32, next: u32) -> u64 {
    u64::from(next.wrapping_sub(last).saturating_sub(1))
}

/// Which GPIO library drives the button and the LED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpioBackend {
    /// The kernel GPIO character device, uAPI v2, through gpiocdev (the default).
    #[default]
    Cdev,
    /// rppal (retired upstream in 2025; only in builds with `--features rppal`).
    Rppal,
}

#[cfg(test)]
mod tests {
    use super::missing_between;

    #[test]
    fn edges_missing_between_sequence_numbers() {
        assert_eq!(missing_between(0, 1), 0, "the first edge after start");
        assert_eq!(missing_between(7, 8), 0, "the next edge");
        assert_eq!(missing_between(7, 10), 2, "two dropped by a full queue");
        assert_eq!(
            missing_between(u32::MAX, 0),
            0,
            "the count wraps: nothing lost"
        );
        assert_eq!(missing_between(u32::MAX - 1, 2), 3, "lost across the wrap");
        assert_eq!(missing_between(5, 5), 0, "the same edge again is not a gap");
    }
}
