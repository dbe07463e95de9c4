//! Confusion-matrix image (PNG) with plotters' bitmap backend; labels in an 8×8 bitmap font so no
//! system fonts are needed.

use std::path::Path;

use font8x8::legacy::BASIC_LEGACY;
use plotters::prelude::*;

use crate::metrics::Confusion;

/// Pixel size of one cell and the label margin.
const CELL: u32 = 36;
const MARGIN: u32 = 130;

fn draw_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    x: i32,
    y: i32,
    color: &RGBColor,
    vertical: bool,
) {
    for (k, ch) in text.chars().enumerate() {
        let Some(glyph) = BASIC_LEGACY.get(ch as usize) else {
            continue;
        };
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let (px, py) = if vertical {
                        (x + row as i32, y - (k as i32 * 8 + col))
                    } else {
                        (x + k as i32 * 8 + col, y + row as i32)
                    };
                    let _ = area.draw_pixel((px, py), color);
                }
            }
        }
    }
}

/// Writes a row-normalised confusion matrix (true class down, predicted across) to `path`.
pub fn confusion_png(confusion: &Confusion, names: &[&str], path: &Path) -> Result<(), String> {
    let n = confusion.n_classes() as u32;
    let size = (MARGIN + n * CELL + 10, MARGIN + n * CELL + 10);
    let mut buffer = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, size).into_drawing_area();
        draw(&root, confusion, names)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&buffer)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    confusion: &Confusion,
    names: &[&str],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (t, row) in confusion.counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (p, &c) in row.iter().enumerate() {
            let frac = if total > 0 {
                c as f64 / total as f64
            } else {
                0.0
            };
            let shade = (255.0 * (1.0 - frac)) as u8;
            let x0 = (MARGIN + p as u32 * CELL) as i32;
            let y0 = (MARGIN + t as u32 * CELL) as i32;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + CELL as i32 - 1, y0 + CELL as i32 - 1)],
                RGBColor(shade, shade, 255).filled(),
            ))
            .map_err(|e| e.to_string())?;
            let label = format!("{}", (frac * 100.0).round() as u32);
            let color = if frac > 0.5 { WHITE } else { BLACK };
            draw_text(root, &label, x0 + 6, y0 + 14, &color, false);
        }
    }
    for (i, name) in names.iter().enumerate() {
        let y = (MARGIN + i as u32 * CELL + CELL / 2 - 4) as i32;
        draw_text(root, name, 4, y, &BLACK, false);
        let x = (MARGIN + i as u32 * CELL + CELL / 2 - 4) as i32;
        draw_text(root, name, x, MARGIN as i32 - 6, &BLACK, true);
    }
    Ok(())
}
