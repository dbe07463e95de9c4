//! The EDA figures (PNG, plotters' bitmap backend with the 8×8 glyph font).

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::measure::{Measurement, colour_phases, curve_phases, quantile, sorted};
use api::GlyphBitmap;

/// One class's measurements.
pub struct ClassSet<'a> {
    pub name: &'a str,
    pub objects: Vec<&'a Measurement>,
}

/// Colour-blind-safe class colours (Wong 2011): blue, vermillion, green, purple, orange.
fn class_colour(k: usize) -> RGBColor {
    const COLOURS: [RGBColor; 5] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
    ];
    COLOURS[k % COLOURS.len()]
}

type Area<'b, 'a> = DrawingArea<GlyphBitmap<'a>, Shift>;
type DrawResult<T> = Result<T, String>;

/// A polyline as a one-element series (plotters' `LineSeries` needs a feature the workspace
/// leaves off).
fn line(
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
) -> std::iter::Once<PathElement<(f64, f64)>> {
    std::iter::once(PathElement::new(
        points.into_iter().collect::<Vec<_>>(),
        style,
    ))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Renders `draw` on a white `size` canvas and writes it as an 8-bit RGB PNG.
fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_, '_>) -> DrawResult<()>,
) -> DrawResult<()> {
    let mut pixels = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = GlyphBitmap::with_buffer(&mut pixels, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&pixels).map_err(err)?;
    writer.finish().map_err(err)
}

/// Median and 16th/84th percentiles of the present values of column `k` over the objects, when
/// at least `min` objects have one.
fn band_at(
    objects: &[&Measurement],
    column: impl Fn(&Measurement) -> Option<f64>,
    min: usize,
) -> Option<(f64, f64, f64)> {
    let v = sorted(objects.iter().filter_map(|m| column(m)));
    if v.len() < min {
        return None;
    }
    Some((quantile(&v, 0.16)?, quantile(&v, 0.5)?, quantile(&v, 0.84)?))
}

/// (a) r-band flux over peak flux against rest-frame days from peak: one panel per class, every
/// object's GP curve (thin) and the class median (thick).
pub fn lightcurves(path: &Path, sets: &[ClassSet<'_>], frame: &str) -> DrawResult<()> {
    let width = 420 * sets.len().max(1) as u32;
    write_png(path, (width, 380), |root| {
        let panels = root.split_evenly((1, sets.len().max(1)));
        let phases = curve_phases();
        for (k, (set, panel)) in sets.iter().zip(panels.iter()).enumerate() {
            let colour = class_colour(k);
            let used = set
                .objects
                .iter()
                .filter(|m| m.peak_mjd_r.is_some())
                .count();
            let mut chart = ChartBuilder::on(panel)
                .caption(
                    format!("{}: r band, {used} objects", set.name),
                    ("sans-serif", 18),
                )
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(-30.0..150.0, -0.2..1.3)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(format!("{frame} days from r peak"))
                .y_desc("flux / peak flux")
                .axis_desc_style(("sans-serif", 14))
                .label_style(("sans-serif", 12))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            for m in set.objects.iter().filter(|m| m.peak_mjd_r.is_some()) {
                // Contiguous covered stretches of the curve, each its own line.
                let mut run: Vec<(f64, f64)> = Vec::new();
                let mut flush = |run: &mut Vec<(f64, f64)>| -> DrawResult<()> {
                    if run.len() > 1 {
                        chart
                            .draw_series(line(run.drain(..), colour.mix(0.12).stroke_width(1)))
                            .map_err(err)?;
                    }
                    run.clear();
                    Ok(())
                };
                for (p, v) in phases.iter().zip(&m.curve) {
                    match v {
                        Some(v) => run.push((*p, v.clamp(-0.2, 1.3))),
                        None => flush(&mut run)?,
                    }
                }
                flush(&mut run)?;
            }
            let median: Vec<(f64, f64)> = phases
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    band_at(&set.objects, |m| m.curve.get(i).copied().flatten(), 5)
                        .map(|(_, med, _)| (*p, med))
                })
                .collect();
            chart
                .draw_series(line(median, BLACK.stroke_width(3)))
                .map_err(err)?
                .label("median")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(3)));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Step outline of a normalised histogram (fraction of the class per bin); values outside
/// `range` go to the end bins.
fn histogram(values: &[f64], range: &Range<f64>, bins: usize) -> Vec<(f64, f64)> {
    let width = (range.end - range.start) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values {
        let b = ((v - range.start) / width)
            .floor()
            .clamp(0.0, (bins - 1) as f64) as usize;
        counts[b] += 1;
    }
    let n = values.len().max(1) as f64;
    let mut outline = vec![(range.start, 0.0)];
    for (b, c) in counts.iter().enumerate() {
        let y = *c as f64 / n;
        let x0 = range.start + b as f64 * width;
        outline.push((x0, y));
        outline.push((x0 + width, y));
    }
    outline.push((range.end, 0.0));
    outline
}

/// (b) Histograms of the rise and decline times per class, side by side.
pub fn histograms(path: &Path, sets: &[ClassSet<'_>], frame: &str) -> DrawResult<()> {
    type Stat = fn(&Measurement) -> Option<f64>;
    let panels: [(&str, Stat, Range<f64>, usize); 2] = [
        ("rise time t1/2 (r)", |m| m.rise_days, 0.0..30.0, 20),
        ("decline time t1/2 (r)", |m| m.decline_days, 0.0..180.0, 36),
    ];
    write_png(path, (900, 380), |root| {
        let areas = root.split_evenly((1, 2));
        for ((title, stat, range, bins), area) in panels.iter().zip(areas.iter()) {
            let hists: Vec<Vec<(f64, f64)>> = sets
                .iter()
                .map(|s| {
                    let v = sorted(s.objects.iter().filter_map(|m| stat(m)));
                    histogram(&v, range, *bins)
                })
                .collect();
            let top = hists
                .iter()
                .flatten()
                .map(|p| p.1)
                .fold(0.05, f64::max)
                .min(1.0)
                * 1.15;
            let mut chart = ChartBuilder::on(area)
                .caption(*title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(range.clone(), 0.0..top)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc(format!("{frame} days"))
                .y_desc("fraction of class")
                .axis_desc_style(("sans-serif", 14))
                .label_style(("sans-serif", 12))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            for (k, (set, hist)) in sets.iter().zip(hists).enumerate() {
                let colour = class_colour(k);
                let n = set.objects.iter().filter(|m| stat(m).is_some()).count();
                chart
                    .draw_series(std::iter::once(Polygon::new(hist.clone(), colour.mix(0.2))))
                    .map_err(err)?;
                chart
                    .draw_series(line(hist, colour.stroke_width(2)))
                    .map_err(err)?
                    .label(format!("{} (n={n})", set.name))
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    })
}

/// (c) g − r against rest-frame days from the r peak: median and 16–84 % band per class.
pub fn colours(path: &Path, sets: &[ClassSet<'_>], frame: &str) -> DrawResult<()> {
    write_png(path, (640, 420), |root| {
        let phases = colour_phases();
        let (x0, x1) = (
            phases.first().copied().unwrap_or(-15.0),
            phases.last().copied().unwrap_or(100.0),
        );
        let mut chart = ChartBuilder::on(root)
            .caption("g - r colour against phase", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, -0.8..2.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("{frame} days from r peak"))
            .y_desc("g - r (AB mag)")
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 12))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (k, set) in sets.iter().enumerate() {
            let colour = class_colour(k);
            let stats: Vec<(f64, (f64, f64, f64))> = phases
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    band_at(&set.objects, |m| m.colour.get(i).copied().flatten(), 5)
                        .map(|s| (*p, s))
                })
                .collect();
            if stats.len() > 1 {
                let mut polygon: Vec<(f64, f64)> = stats.iter().map(|(p, s)| (*p, s.2)).collect();
                polygon.extend(stats.iter().rev().map(|(p, s)| (*p, s.0)));
                chart
                    .draw_series(std::iter::once(Polygon::new(polygon, colour.mix(0.2))))
                    .map_err(err)?;
            }
            chart
                .draw_series(line(
                    stats.iter().map(|(p, s)| (*p, s.1)),
                    colour.stroke_width(3),
                ))
                .map_err(err)?
                .label(format!("{} median, 16-84%", set.name))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(err)
    })
}

/// (d) Rise against decline time, one point per object with both.
pub fn scatter(path: &Path, sets: &[ClassSet<'_>], frame: &str) -> DrawResult<()> {
    write_png(path, (640, 460), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("rise against decline (r band)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..30.0, 0.0..180.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("rise t1/2 ({frame} days)"))
            .y_desc(format!("decline t1/2 ({frame} days)"))
            .axis_desc_style(("sans-serif", 14))
            .label_style(("sans-serif", 12))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (k, set) in sets.iter().enumerate() {
            let colour = class_colour(k);
            let points: Vec<(f64, f64)> = set
                .objects
                .iter()
                .filter_map(|m| Some((m.rise_days?.min(30.0), m.decline_days?.min(180.0))))
                .collect();
            let n = points.len();
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.mix(0.6).filled())),
                )
                .map_err(err)?
                .label(format!("{} (n={n})", set.name))
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)
    })
}
