//! SVG plots of a day (plotters, SVG backend: text stays text, so no font files are
//! needed): calls over the day, latency percentiles by hour, the review queue, and the
//! offline queues with the faults shaded.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::report::{DayReport, percentile};

const SIZE: (u32, u32) = (960, 420);
const FAULT_SHADE: RGBColor = RGBColor(250, 210, 210);

/// Writes the four plots into `dir` and returns their paths.
pub fn write_all(report: &DayReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let paths = [
        "day-load.svg",
        "day-latency.svg",
        "day-review-queue.svg",
        "day-offline-queues.svg",
    ]
    .map(|name| dir.join(name));
    load(report, &paths[0])?;
    latency(report, &paths[1])?;
    review(report, &paths[2])?;
    queues(report, &paths[3])?;
    Ok(paths.to_vec())
}

fn line(points: Vec<(f64, f64)>, color: RGBColor, label: &str) -> Line<'_> {
    Line {
        points,
        color,
        label,
    }
}

fn hours(ms: u64) -> f64 {
    ms as f64 / 3_600_000.0
}

/// Calls per 10 minutes (dispatches and card uses) and incidents in progress.
fn load(report: &DayReport, path: &Path) -> anyhow::Result<()> {
    let mut calls = [0u32; 144];
    let mut uses = [0u32; 144];
    for scene in &report.scenes {
        let bucket = ((scene.at_ms / 600_000) as usize).min(143);
        calls[bucket] += 1;
        if scene.tapped {
            uses[bucket] += 1;
        }
    }
    let active: Vec<(f64, f64)> = report
        .queues
        .iter()
        .map(|q| (hours(q.at_ms), q.active_incidents as f64))
        .collect();
    let per_bucket = |counts: &[u32; 144]| -> Vec<(f64, f64)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, c)| (i as f64 / 6.0, f64::from(*c)))
            .collect()
    };
    draw(
        path,
        &format!("Load over the day ({} dispatches)", report.dispatches),
        "calls per 10 min / incidents",
        None,
        vec![
            line(per_bucket(&calls), BLUE, "dispatches / 10 min"),
            line(per_bucket(&uses), GREEN, "card uses / 10 min"),
            line(active, RED, "incidents in progress"),
        ],
    )
}

/// p50, p99 and p99.9 of the summary call by hour, with faults shaded.
fn latency(report: &DayReport, path: &Path) -> anyhow::Result<()> {
    let by_hour: Vec<Vec<f64>> = (0..24)
        .map(|h| report.latencies(|s| s.summary_call_ms, |s| s.at_ms / 3_600_000 == h))
        .collect();
    let at = |p: f64| -> Vec<(f64, f64)> {
        by_hour
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| (h as f64 + 0.5, percentile(v, p)))
            .collect()
    };
    draw(
        path,
        "Summary call latency by hour (real ms, durable audit)",
        "ms",
        Some(&report.faults),
        vec![
            line(at(50.0), GREEN, "p50"),
            line(at(99.0), BLUE, "p99"),
            line(at(99.9), RED, "p99.9"),
        ],
    )
}

/// Open review items, and findings recorded, over the day.
fn review(report: &DayReport, path: &Path) -> anyhow::Result<()> {
    let open: Vec<(f64, f64)> = report
        .review
        .iter()
        .map(|r| (hours(r.at_ms), r.open as f64))
        .collect();
    let reviewed: Vec<(f64, f64)> = report
        .review
        .iter()
        .map(|r| (hours(r.at_ms), r.reviewed as f64))
        .collect();
    draw(
        path,
        "Privacy officer's review queue (officer works 09:00–17:00)",
        "items",
        None,
        vec![
            line(open, RED, "open items"),
            line(reviewed, BLUE, "findings recorded (cumulative)"),
        ],
    )
}

/// Writes waiting in the tablets' outboxes and notices in the edge's outbox.
fn queues(report: &DayReport, path: &Path) -> anyhow::Result<()> {
    let tablet: Vec<(f64, f64)> = report
        .queues
        .iter()
        .map(|q| (hours(q.at_ms), q.tablet_outbox as f64))
        .collect();
    let relay: Vec<(f64, f64)> = report
        .queues
        .iter()
        .map(|q| (hours(q.at_ms), q.relay_outbox as f64))
        .collect();
    draw(
        path,
        "Offline queues during faults",
        "queued",
        Some(&report.faults),
        vec![
            line(tablet, BLUE, "tablet outboxes (writes)"),
            line(relay, RED, "edge → hospital outbox (notices)"),
        ],
    )
}

/// One line of a plot.
struct Line<'a> {
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: &'a str,
}

/// Draws `lines` over the 24 hours of the day, y from 0 to a little above the highest
/// point, the faults shaded when `shade`.
fn draw(
    path: &Path,
    caption: &str,
    y_desc: &str,
    shade: Option<&[super::faults::Fault]>,
    lines: Vec<Line<'_>>,
) -> anyhow::Result<()> {
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.15;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..24f64, 0f64..top)?;
    let x_desc = if shade.is_some() {
        "hour of the simulated day (faults shaded)"
    } else {
        "hour of the simulated day"
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()?;
    if let Some(faults) = shade {
        chart.draw_series(faults.iter().map(|f| {
            let (from, to) = (f.from.as_secs_f64() / 3600.0, f.to.as_secs_f64() / 3600.0);
            // At least six minutes wide, so a one-minute restart shows.
            Rectangle::new(
                [(from, 0.0), (to.max(from + 0.1), top)],
                FAULT_SHADE.filled(),
            )
        }))?;
    }
    for line in lines {
        let color = line.color;
        chart
            .draw_series(LineSeries::new(line.points, color.stroke_width(2)))?
            .label(line.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
