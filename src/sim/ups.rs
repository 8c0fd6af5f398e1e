//! The simulator's UPS: what the script's `ups STATUS [CHARGE]` and the
//! key `b` set (the `ups` page and the attention follow), and the real
//! upsd's conditions when `[ups]` names one and the figures are real.

use std::cell::RefCell;
use std::rc::Rc;

use crate::app::ports::{EdgeBatch, Inputs, StatsSource, Wake};
use crate::core::{AttentionSource, Input, PageKind, Time, UpsStatus};
use crate::linux::ups::UpsConditions;
use crate::stats::{Stats, UpsFigures, UpsText};

/// The runtime at full charge of the simulated UPS (at its load).
const FULL_RUNTIME_S: f32 = 2_820.0;
/// The simulated UPS's load.
const LOAD_PERCENT: f32 = 23.0;

/// The simulated UPS, shared by the script or the keys and the figures;
/// `None` until one of them sets it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SimUps(Rc<RefCell<Option<UpsFigures>>>);

impl SimUps {
    /// The UPS says `status` (NUT's tokens) with `charge` percent (the
    /// last charge when not given); the input that tells the firmware.
    pub(crate) fn set(&self, status: &str, charge: Option<f32>) -> Input {
        let mut figures = self.0.borrow_mut();
        let charge = charge
            .or(figures.as_ref().and_then(|f| f.charge_percent))
            .unwrap_or(100.0);
        *figures = Some(UpsFigures {
            status: status.to_string(),
            charge_percent: Some(charge),
            runtime_s: Some(FULL_RUNTIME_S * charge / 100.0),
            load_percent: Some(LOAD_PERCENT),
        });
        Input::Condition {
            source: AttentionSource::Ups,
            condition: UpsStatus::parse(status).condition(),
        }
    }

    /// Whether the simulated UPS is on battery now.
    pub(crate) fn on_battery(&self) -> bool {
        self.0
            .borrow()
            .as_ref()
            .is_some_and(|f| UpsStatus::parse(&f.status).on_battery)
    }
}

/// The figures of the pages, the `ups` page's from the simulated UPS once
/// it has been set.
pub(crate) struct SimStats {
    pub(crate) inner: Box<dyn StatsSource>,
    pub(crate) ups: SimUps,
}

impl StatsSource for SimStats {
    fn sample(&mut self, page: PageKind) -> Stats {
        let mut stats = self.inner.sample(page);
        if let Some(figures) = self.ups.0.borrow().clone() {
            stats.ups = UpsText::Read(figures);
        }
        stats
    }
}

/// The world's inputs with the real upsd's condition changes added; they
/// arrive at the loop's next wake-up (the simulator's loop has no `woken`
/// socket: with the screen on that is within a second).
pub(crate) struct WithUpsConditions {
    pub(crate) inputs: Box<dyn Inputs>,
    pub(crate) ups: UpsConditions,
}

impl Inputs for WithUpsConditions {
    fn now(&mut self) -> Time {
        self.inputs.now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        self.inputs.button_pressed()
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        self.inputs.wait(deadline)
    }

    fn pending_edges(&mut self) -> std::io::Result<Option<EdgeBatch>> {
        self.inputs.pending_edges()
    }

    fn pending_inputs(&mut self) -> Vec<Input> {
        let mut inputs = self.inputs.pending_inputs();
        inputs.extend(self.ups.drain());
        inputs
    }
}
