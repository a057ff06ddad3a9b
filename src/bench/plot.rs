//! The run over time, as an SVG (plotters): answered messages per second, p50 and p99 latency,
//! and the gateway's resident memory.

use std::path::Path;

use plotters::prelude::*;

use super::growth::{BotsPoint, GrowthFigures, HistoryPoint, ToolsPoint};
use super::report::Report;

type PlotResult = Result<(), Box<dyn std::error::Error>>;

type Panel<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One panel: its caption, axes from 0 to `x_max` seconds and 0 to 110% of `y_max`, a mesh.
fn panel<'a>(
    area: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    caption: &str,
    x_max: f64,
    y_max: f64,
) -> Result<Panel<'a>, Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max * 1.1)?;
    chart.configure_mesh().x_desc("seconds").draw()?;
    Ok(chart)
}

/// Draws the three panels into `path`.
pub fn draw(report: &Report, path: &Path) -> PlotResult {
    let root = SVGBackend::new(path, (1000, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 1));
    let secs = report.seconds.len().max(1) as f64;

    let max_rate = report
        .seconds
        .iter()
        .map(|s| s.answered)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut chart = panel(&panels[0], "answered messages per second", secs, max_rate)?;
    chart.draw_series(LineSeries::new(
        report
            .seconds
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, s.answered as f64)),
        &BLUE,
    ))?;

    let ms = |us: u64| us as f64 / 1000.0;
    let max_lat = report
        .seconds
        .iter()
        .map(|s| ms(s.p99_us))
        .fold(1.0, f64::max);
    let mut chart = panel(
        &panels[1],
        "latency per second (ms): p50, p99",
        secs,
        max_lat,
    )?;
    chart
        .draw_series(LineSeries::new(
            report
                .seconds
                .iter()
                .enumerate()
                .map(|(i, s)| (i as f64, ms(s.p50_us))),
            &GREEN,
        ))?
        .label("p50")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    chart
        .draw_series(LineSeries::new(
            report
                .seconds
                .iter()
                .enumerate()
                .map(|(i, s)| (i as f64, ms(s.p99_us))),
            &RED,
        ))?
        .label("p99")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart.configure_series_labels().border_style(BLACK).draw()?;

    let max_rss = report
        .rss_samples
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or(1)
        .max(1) as f64
        / 1024.0;
    let max_t = report.rss_samples.last().map_or(secs, |r| r.0.max(1.0));
    let mut chart = panel(&panels[2], "gateway resident memory (MiB)", max_t, max_rss)?;
    chart.draw_series(LineSeries::new(
        report
            .rss_samples
            .iter()
            .map(|(t, kib)| (*t, *kib as f64 / 1024.0)),
        &MAGENTA,
    ))?;
    root.present()?;
    Ok(())
}

/// One curve: points joined by a line, marked with circles, in a panel whose x axis is
/// `x_desc` from 0 to the largest x.
fn curve(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    x_desc: &str,
    points: &[(f64, f64)],
    color: RGBColor,
) -> PlotResult {
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let y_max = points.iter().map(|p| p.1).fold(f64::MIN_POSITIVE, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max * 1.05, 0f64..y_max * 1.15)?;
    chart.configure_mesh().x_desc(x_desc).draw()?;
    chart.draw_series(LineSeries::new(points.iter().copied(), &color))?;
    chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    Ok(())
}

/// One panel of a growth figure: caption, x axis, points, colour.
type Curve<'a> = (&'a str, &'a str, Vec<(f64, f64)>, RGBColor);

/// A figure of `curves` stacked one above the other, written to `path`.
fn figure(path: &Path, curves: &[Curve<'_>]) -> PlotResult {
    let height = 300 * curves.len() as u32;
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((curves.len(), 1));
    for (area, (caption, x_desc, points, color)) in panels.iter().zip(curves) {
        curve(area, caption, x_desc, points, *color)?;
    }
    root.present()?;
    Ok(())
}

/// The growth preset's three figures, next to its report: `bench-growth-history.svg`,
/// `-bots.svg` and `-tools.svg`. Returns their paths.
pub fn draw_growth(
    g: &GrowthFigures,
    out: &Path,
) -> Result<Vec<std::path::PathBuf>, Box<dyn std::error::Error>> {
    let turns = |f: fn(&HistoryPoint) -> f64| -> Vec<(f64, f64)> {
        g.history.iter().map(|p| (p.turns as f64, f(p))).collect()
    };
    let bots = |f: fn(&BotsPoint) -> f64| -> Vec<(f64, f64)> {
        g.bots.iter().map(|p| (p.bots as f64, f(p))).collect()
    };
    let rounds = |f: fn(&ToolsPoint) -> f64| -> Vec<(f64, f64)> {
        g.tools
            .iter()
            .map(|p| (f64::from(p.rounds), f(p)))
            .collect()
    };
    let history = out.join("bench-growth-history.svg");
    figure(
        &history,
        &[
            (
                "gateway CPU per message (us) against turns of history",
                "turns of history",
                turns(|p| p.cpu_us_per_message),
                BLUE,
            ),
            (
                "model request per call (KiB) against turns of history",
                "turns of history",
                turns(|p| p.request_bytes / 1024.0),
                MAGENTA,
            ),
        ],
    )?;
    let by_bots = out.join("bench-growth-bots.svg");
    figure(
        &by_bots,
        &[
            (
                "gateway CPU per message (us), one bot busy, the others idle",
                "bots connected",
                bots(|p| p.cpu_us_per_message),
                BLUE,
            ),
            (
                "idle gateway CPU (% of one core)",
                "bots connected",
                bots(|p| p.idle_cpu_percent),
                RED,
            ),
            (
                "idle gateway resident memory (MiB)",
                "bots connected",
                bots(|p| p.idle_rss_kib as f64 / 1024.0),
                MAGENTA,
            ),
        ],
    )?;
    let tools = out.join("bench-growth-tools.svg");
    figure(
        &tools,
        &[
            (
                "gateway CPU per message (us) against tool rounds per turn",
                "tool rounds per turn",
                rounds(|p| p.cpu_us_per_message),
                BLUE,
            ),
            (
                "model calls per message",
                "tool rounds per turn",
                rounds(|p| p.model_calls_per_message),
                GREEN,
            ),
        ],
    )?;
    Ok(vec![history, by_bots, tools])
}
