//! What the benchmarks share: latency samples and their percentiles, milliseconds, and the
//! directory a benchmark writes its files to.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Latency percentiles of one operation.
pub(crate) struct Sample {
    pub(crate) name: &'static str,
    pub(crate) sorted: Vec<Duration>,
}

impl Sample {
    /// Runs `run` a tenth of `iterations` times to warm up, then `iterations` times timed.
    pub(crate) fn measure(
        name: &'static str,
        iterations: usize,
        mut run: impl FnMut() -> anyhow::Result<()>,
    ) -> anyhow::Result<Sample> {
        for _ in 0..iterations / 10 {
            run()?;
        }
        let mut sorted = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            run()?;
            sorted.push(start.elapsed());
        }
        sorted.sort_unstable();
        Ok(Sample { name, sorted })
    }

    /// Nearest-rank percentile.
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }
}

/// `dir` (created if needed), or a new temporary directory, removed when the second value
/// is dropped.
pub(crate) fn bench_dir(
    dir: Option<PathBuf>,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    Ok(match dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            (dir, None)
        }
        None => {
            let temporary = tempfile::tempdir()?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    })
}

/// `d` in milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
