//! Faults during the day, at simulated times: a headquarters' tablets without signal, the
//! edge restarted (a deploy) under load, a hospital's dashboard down, a slow disk under the
//! edge's access log.

use std::time::Duration;

use serde::Serialize;

use super::clock::{SimClock, hhmm};
use crate::front::{Front, FrontMode};
use crate::stack::LocalStack;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// Every tablet of headquarters `hq` loses signal (a mobile network outage in its area).
    TabletsOffline {
        /// Headquarters index (0: the largest).
        hq: usize,
    },
    /// The edge is stopped (draining) and started again on the same files.
    EdgeRestart,
    /// Hospital-view `hospital` is down (0-based, the stack's order).
    HospitalDown {
        /// Hospital index.
        hospital: usize,
    },
    /// Every commit of the edge's store waits this long first.
    SlowDisk {
        /// Added to each commit.
        #[serde(with = "millis")]
        delay: Duration,
    },
}

/// A fault from `from` to `to` (simulated time from midnight).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// What.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Start.
    #[serde(with = "millis")]
    pub from: Duration,
    /// End (for a restart: when the edge starts again).
    #[serde(with = "millis")]
    pub to: Duration,
}

impl Fault {
    /// A short description with its times.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            FaultKind::TabletsOffline { hq } => format!("HQ {} tablets offline", hq + 1),
            FaultKind::EdgeRestart => "edge restart".into(),
            FaultKind::HospitalDown { hospital } => format!("hospital {} down", hospital + 1),
            FaultKind::SlowDisk { delay } => {
                format!("slow disk (+{} ms/commit)", delay.as_millis())
            }
        };
        format!("{what} {}–{}", hhmm(self.from), hhmm(self.to))
    }

    /// Whether simulated time `at` is inside this fault.
    pub fn covers(&self, at: Duration) -> bool {
        (self.from..self.to).contains(&at)
    }
}

/// The default day's faults: the largest headquarters offline 10:00–10:20 (the morning
/// peak), an edge deploy at 13:00, the tertiary centre's dashboard down 15:00–15:30, and a
/// slow disk (+50 ms per commit) 18:00–19:00.
pub fn default_faults() -> Vec<Fault> {
    let at = |h: u64, m: u64| Duration::from_secs(h * 3600 + m * 60);
    vec![
        Fault {
            kind: FaultKind::TabletsOffline { hq: 0 },
            from: at(10, 0),
            to: at(10, 20),
        },
        Fault {
            kind: FaultKind::EdgeRestart,
            from: at(13, 0),
            to: at(13, 1),
        },
        Fault {
            kind: FaultKind::HospitalDown { hospital: 0 },
            from: at(15, 0),
            to: at(15, 30),
        },
        Fault {
            kind: FaultKind::SlowDisk {
                delay: Duration::from_millis(50),
            },
            from: at(18, 0),
            to: at(19, 0),
        },
    ]
}

/// Runs `faults` against `stack` on `clock`, each front switched by the headquarters it
/// serves (`fronts[hq]`), then hands the stack back. Returns when every fault has ended.
pub async fn run(
    mut stack: LocalStack,
    faults: Vec<Fault>,
    fronts: std::collections::HashMap<usize, Front>,
    clock: SimClock,
) -> anyhow::Result<(LocalStack, std::collections::HashMap<usize, Front>)> {
    // Every start and end, in time order.
    let mut events: Vec<(Duration, bool, Fault)> = faults
        .iter()
        .flat_map(|f| [(f.from, true, f.clone()), (f.to, false, f.clone())])
        .collect();
    events.sort_by_key(|(at, starts, _)| (*at, *starts));
    for (at, starts, fault) in events {
        clock.until(at).await;
        match (&fault.kind, starts) {
            (FaultKind::TabletsOffline { hq }, starts) => {
                if let Some(front) = fronts.get(hq) {
                    front.set(if starts {
                        FrontMode::Down
                    } else {
                        FrontMode::Up
                    });
                }
            }
            (FaultKind::EdgeRestart, true) => {
                let down_for = (fault.to.saturating_sub(fault.from)).div_f64(clock.speedup());
                stack.restart_edge(down_for).await?;
            }
            (FaultKind::EdgeRestart, false) => {}
            (FaultKind::HospitalDown { hospital }, true) => stack.stop_hospital(*hospital).await?,
            (FaultKind::HospitalDown { hospital }, false) => {
                stack.start_hospital(*hospital).await?;
            }
            (FaultKind::SlowDisk { delay }, starts) => {
                stack.set_slow_disk(if starts { *delay } else { Duration::ZERO });
            }
        }
        tracing::info!(fault = %fault.describe(), starts, "fault");
    }
    Ok((stack, fronts))
}

/// Durations as milliseconds in the JSON report.
mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
