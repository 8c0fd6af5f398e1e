//! The button and the LED from the chosen GPIO backend: the kernel's
//! character device (the default), or rppal where the build has it.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::app::ports::{EdgeSource, LedPort};
use crate::config::{Config, ConfigError, LineSelector};
use crate::linux::gpio::{Button, Led};
use crate::linux::GpioBackend;

pub(super) type GpioPorts = (Box<dyn EdgeSource>, Box<dyn LedPort>);

/// Requests the button and the LED from the chosen backend.
pub(super) fn open_gpio(
    config: &Config,
    config_path: Option<&Path>,
    debounce: Duration,
    backend: GpioBackend,
) -> anyhow::Result<GpioPorts> {
    match backend {
        GpioBackend::Cdev => open_cdev(config, config_path, debounce),
        #[cfg(feature = "rppal")]
        GpioBackend::Rppal => {
            use crate::linux::rppal_backend::{RppalButton, RppalLed};
            let button = RppalButton::request(
                &config.button_line(),
                config.button.active_low,
                config.button.bias,
                debounce,
            )
            .context("cannot use the button")?;
            let led = RppalLed::request(&config.led_line(), config.led.active_low)
                .context("cannot use the LED")?;
            log::info!("button {} and LED {} through rppal", config.button_line(), config.led_line());
            Ok((Box::new(button), Box::new(led)))
        }
        #[cfg(not(feature = "rppal"))]
        GpioBackend::Rppal => anyhow::bail!(
            "this build has no rppal backend: rebuild with `cargo build --release --features rppal`, or use the default"
        ),
    }
}

/// The button and the LED through the GPIO character device; the LED may
/// not be the button's own line.
fn open_cdev(
    config: &Config,
    config_path: Option<&Path>,
    debounce: Duration,
) -> anyhow::Result<GpioPorts> {
    let button = Button::request(
        &config.button_line(),
        config.button.active_low,
        config.button.bias,
        debounce,
    )
    .context("cannot use the button")?;
    if let Ok(led_line) = crate::linux::gpio::resolve(&config.led_line()) {
        if led_line.chip == button.line.chip && led_line.offset == button.line.offset {
            let key = match config.led_line() {
                LineSelector::Named(_) => "led.line",
                LineSelector::Offset { .. } => "led.offset",
            };
            return Err(ConfigError::Invalid {
                path: config_path
                    .unwrap_or(Path::new(crate::config::DEFAULT_PATH))
                    .to_path_buf(),
                line: None,
                key,
                problem: format!(
                    "is the button's line ({} offset {}): the LED needs a line of its own",
                    led_line.chip.display(),
                    led_line.offset
                ),
            }
            .into());
        }
    }
    let led =
        Led::request(&config.led_line(), config.led.active_low).context("cannot use the LED")?;
    log::info!(
        "button {} at {}:{}{}, LED {} at {}:{}",
        config.button_line(),
        button.line.chip.display(),
        button.line.offset,
        if button.kernel_debounce {
            " (kernel debounce)"
        } else {
            ""
        },
        config.led_line(),
        led.line.chip.display(),
        led.line.offset
    );
    Ok((Box::new(button), Box::new(led)))
}
