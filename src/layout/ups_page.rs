//! The `ups` page's lines: the status in words, the charge, the runtime
//! left and the load; or why upsd gave nothing. Never blank.

use super::{fit, percent, wrap, COLUMNS};
use crate::core::UpsStatus;
use crate::stats::{UpsFigures, UpsText};

/// The page's lines: 3 on 32 rows, 5 on 64.
pub(crate) fn ups_lines(ups: &UpsText, tall: bool) -> Vec<String> {
    let room = if tall { 5 } else { 3 };
    match ups {
        UpsText::Pending => vec!["UPS".into(), "reading...".into()],
        UpsText::Error(reason) => {
            let mut text = vec!["UPS: no figures".to_string()];
            text.extend(
                wrap(reason, COLUMNS, room - 1)
                    .iter()
                    .map(|line| fit(line, COLUMNS)),
            );
            text
        }
        UpsText::Read(figures) => figure_lines(figures, tall),
    }
}

fn figure_lines(figures: &UpsFigures, tall: bool) -> Vec<String> {
    let words = UpsStatus::parse(&figures.status).words().join(", ");
    let charge = format!("CHARGE {}", percent(figures.charge_percent));
    let load = format!("LOAD {}", percent(figures.load_percent));
    let runtime = format!("RUNTIME {}", minutes(figures.runtime_s));
    if tall {
        let mut text = wrap(&words, COLUMNS, 2);
        text.extend([charge, runtime, load]);
        text
    } else {
        let mut text = wrap(&words, COLUMNS, 1);
        text.extend([format!("{charge} {load}"), runtime]);
        text
    }
}

/// `23 min`, or `--` when the UPS does not say.
fn minutes(seconds: Option<f32>) -> String {
    match seconds {
        Some(s) if s.is_finite() && s >= 0.0 => {
            format!("{} min", (s.min(6_000_000.0) / 60.0).floor() as u64)
        }
        _ => "--".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: &str, charge: f32, runtime_s: f32, load: f32) -> UpsText {
        UpsText::Read(UpsFigures {
            status: status.into(),
            charge_percent: Some(charge),
            runtime_s: Some(runtime_s),
            load_percent: Some(load),
        })
    }

    #[test]
    fn the_figures_in_words_on_both_panel_sizes() {
        assert_eq!(
            ups_lines(&read("OB DISCHRG", 64.0, 1_395.0, 31.0), false),
            ["on battery", "CHARGE 64% LOAD 31%", "RUNTIME 23 min"]
        );
        assert_eq!(
            ups_lines(&read("CHRG OL", 80.4, 3_600.0, 12.0), true),
            [
                "on line, charging",
                "CHARGE 80%",
                "RUNTIME 60 min",
                "LOAD 12%"
            ]
        );
    }

    #[test]
    fn a_missing_figure_reads_as_dashes_never_as_zero() {
        let figures = UpsText::Read(UpsFigures {
            status: "OL".into(),
            ..UpsFigures::default()
        });
        assert_eq!(
            ups_lines(&figures, false),
            ["on line", "CHARGE --% LOAD --%", "RUNTIME --"]
        );
    }

    #[test]
    fn an_error_is_said_in_full_within_the_page() {
        let text = ups_lines(
            &UpsText::Error("upsd not running at localhost:3493".into()),
            true,
        );
        assert_eq!(text[0], "UPS: no figures");
        assert!(text.len() <= 5 && text.iter().all(|l| l.chars().count() <= COLUMNS));
        assert_eq!(text[1..].join(" "), "upsd not running at localhost:3493");
        assert_eq!(ups_lines(&UpsText::Pending, false), ["UPS", "reading..."]);
    }
}
