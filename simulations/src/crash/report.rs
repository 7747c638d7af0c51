//! What a crash run found: [`CrashReport`] and the [`Failure`]s of its checks.

use std::fmt;
use std::time::Duration;

/// A check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// After which restart (1-based; 0: the first start).
    pub cycle: usize,
    /// What was wrong.
    pub detail: String,
}

/// What a run did and found.
#[derive(Debug, Clone, Default)]
pub struct CrashReport {
    /// Kill/restart cycles completed.
    pub cycles: usize,
    /// Access records acknowledged to a tablet (disclosures, refusals, denials).
    pub acknowledged: u64,
    /// Of those, found in the file at the last check.
    pub found: u64,
    /// `access_log` rows at the last check (acknowledged or not).
    pub log_entries: u64,
    /// Requests that got no answer (cut off by a kill).
    pub cut_off: u64,
    /// Slowest start to a `/healthz` answer, after a kill.
    pub max_restart: Duration,
    /// Mean of those.
    pub mean_restart: Duration,
    /// The first start (seeding on a new directory).
    pub first_start: Duration,
    /// Every check that failed.
    pub failures: Vec<Failure>,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        writeln!(f, "kill/restart cycles        {}", self.cycles)?;
        writeln!(f, "acknowledged records       {}", self.acknowledged)?;
        writeln!(f, "  found in the file        {}", self.found)?;
        writeln!(f, "access_log rows            {}", self.log_entries)?;
        writeln!(f, "requests cut off by kills  {}", self.cut_off)?;
        writeln!(
            f,
            "first start                {:.1} ms",
            ms(self.first_start)
        )?;
        writeln!(
            f,
            "restart to /healthz        mean {:.1} ms, max {:.1} ms",
            ms(self.mean_restart),
            ms(self.max_restart)
        )?;
        writeln!(f, "failures                   {}", self.failures.len())?;
        for failure in self.failures.iter().take(20) {
            writeln!(f, "  cycle {}: {}", failure.cycle, failure.detail)?;
        }
        Ok(())
    }
}
