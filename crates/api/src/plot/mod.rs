//! Light-curve plots: one colour per band, error bars, upper limits as down-pointing triangles,
//! MJD on x and AB magnitude (brighter up) or flux in nJy on y. SVG and PNG share one drawing.

pub(crate) mod glyph;

use std::ops::Range;

use alert_model::Band;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::lightcurve::{LightCurveView, Point, PointKind};

pub const WIDTH: u32 = 900;
pub const HEIGHT: u32 = 560;

/// What the y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    /// AB magnitude, inverted (brighter up). Points with flux ≤ 0 have no magnitude and are left out.
    Magnitude,
    /// Difference flux in nJy.
    Flux,
}

/// Band colours, blue to red (a common choice in ZTF and Rubin plots).
fn band_colour(band: Band) -> RGBColor {
    match band {
        Band::U => RGBColor(86, 180, 233),
        Band::G => RGBColor(0, 158, 115),
        Band::R => RGBColor(213, 94, 0),
        Band::I => RGBColor(204, 121, 167),
        Band::Z => RGBColor(230, 159, 0),
        Band::Y => RGBColor(80, 80, 80),
    }
}

/// A point placed on the plot: (x, y, y error).
struct Placed {
    band: Band,
    kind: PointKind,
    x: f64,
    y: f64,
    err: f64,
}

/// Magnitudes are plotted negated so that brighter is up; the tick labels undo the sign.
fn place(p: &Point, axis: YAxis) -> Option<Placed> {
    let (y, err) = match axis {
        YAxis::Magnitude => (-p.mag?, p.mag_err.unwrap_or(0.0)),
        YAxis::Flux => (p.flux, p.flux_err.unwrap_or(0.0)),
    };
    let err = if err.is_finite() { err.abs() } else { 0.0 };
    (y.is_finite() && p.mjd.0.is_finite()).then_some(Placed {
        band: p.band,
        kind: p.kind,
        x: p.mjd.0,
        y,
        err,
    })
}

/// The smallest range holding every value, padded by 5 % (or ±1 when all are equal).
fn padded(values: impl Iterator<Item = f64>, default: Range<f64>) -> Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return default;
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
    (lo - pad)..(hi + pad)
}

/// Draws the plot on any backend; `title` should be ASCII (the PNG font has no other glyphs).
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    view: &LightCurveView,
    axis: YAxis,
    title: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let placed: Vec<Placed> = view.points().filter_map(|p| place(p, axis)).collect();
    let x_range = padded(placed.iter().map(|p| p.x), 0.0..1.0);
    let y_default = match axis {
        YAxis::Magnitude => -22.0..-16.0,
        YAxis::Flux => 0.0..1000.0,
    };
    let y_range = padded(
        placed.iter().flat_map(|p| [p.y - p.err, p.y + p.err]),
        y_default,
    );
    let y_desc = match axis {
        YAxis::Magnitude => "AB magnitude",
        YAxis::Flux => "difference flux (nJy)",
    };

    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(x_range, y_range)?;
    chart
        .configure_mesh()
        .x_desc("MJD")
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| match axis {
            YAxis::Magnitude => format!("{:.1}", -y),
            YAxis::Flux => format!("{y:.0}"),
        })
        .light_line_style(WHITE.mix(0.0))
        .draw()?;

    for band in Band::ALL {
        let colour = band_colour(band);
        let of_band = |kind: PointKind| {
            placed
                .iter()
                .filter(move |p| p.band == band && p.kind == kind)
        };
        if placed.iter().all(|p| p.band != band) {
            continue;
        }
        chart
            .draw_series(of_band(PointKind::Detection).map(|p| {
                ErrorBar::new_vertical(p.x, p.y - p.err, p.y, p.y + p.err, colour.filled(), 6)
            }))?
            .label(band.as_str())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        chart.draw_series(
            of_band(PointKind::Detection).map(|p| Circle::new((p.x, p.y), 4, colour.filled())),
        )?;
        // Forced photometry: hollow circles with thinner error bars.
        chart.draw_series(of_band(PointKind::Forced).map(|p| {
            ErrorBar::new_vertical(p.x, p.y - p.err, p.y, p.y + p.err, colour.mix(0.5), 4)
        }))?;
        chart.draw_series(
            of_band(PointKind::Forced).map(|p| Circle::new((p.x, p.y), 3, colour.stroke_width(1))),
        )?;
        // Upper limits: a triangle pointing to fainter values (down on both axes).
        chart.draw_series(of_band(PointKind::UpperLimit).map(|p| {
            EmptyElement::at((p.x, p.y))
                + Polygon::new(vec![(-5, -3), (5, -3), (0, 6)], colour.mix(0.6).filled())
        }))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()
}

/// The plot as an SVG document.
pub fn svg(view: &LightCurveView, axis: YAxis, title: &str) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, view, axis, title).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The plot as a PNG image (RGB, 8 bits).
pub fn png(view: &LightCurveView, axis: YAxis, title: &str) -> Result<Vec<u8>, String> {
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root =
            glyph::GlyphBitmap::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, view, axis, title).map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}
