//! Simulated time: the day runs `speedup` times faster than the wall clock.

use std::time::{Duration, Instant};

/// Maps simulated time (from midnight) to the wall clock.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start: Instant,
    speedup: f64,
}

/// The shortest real sleep the driver takes: below it, timer granularity dominates.
const MIN_REAL_SLEEP: Duration = Duration::from_millis(5);

impl SimClock {
    /// Simulated midnight is now.
    pub fn start(speedup: f64) -> SimClock {
        SimClock {
            start: Instant::now(),
            speedup: speedup.max(1.0),
        }
    }

    /// The speed-up.
    pub fn speedup(&self) -> f64 {
        self.speedup
    }

    /// Simulated time since midnight.
    pub fn now(&self) -> Duration {
        self.start.elapsed().mul_f64(self.speedup)
    }

    /// Sleeps until simulated time `at` (at once if it has passed).
    pub async fn until(&self, at: Duration) {
        let real = self.start + at.div_f64(self.speedup);
        tokio::time::sleep_until(real.into()).await;
    }

    /// Sleeps `sim` simulated time (at least a few real milliseconds).
    pub async fn sleep(&self, sim: Duration) {
        tokio::time::sleep(sim.div_f64(self.speedup).max(MIN_REAL_SLEEP)).await;
    }
}

/// `at` as `HH:MM` of the simulated day.
pub fn hhmm(at: Duration) -> String {
    let minutes = at.as_secs() / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}
