//! Light-curve summary features that need no model: what downstream filters use before any
//! classification (per-band latest/peak flux, rise and fade rates, colour).

use std::collections::BTreeMap;

use alert_model::{Band, Detection};
use serde::{Deserialize, Serialize};

/// Detections closer in time than this count as one epoch for a colour (ZTF takes g and r on the
/// same night).
const SAME_EPOCH_DAYS: f64 = 1.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandSummary {
    pub band: String,
    pub n_detections: i32,
    pub latest_mjd: f64,
    pub latest_flux_njy: f64,
    pub latest_flux_err_njy: f64,
    pub peak_flux_njy: f64,
    pub peak_mjd: f64,
    pub rise_rate_mag_per_day: Option<f64>,
    pub fade_rate_mag_per_day: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LightCurveSummary {
    pub n_detections: i32,
    pub bands: Vec<BandSummary>,
    pub color_g_minus_r: Option<f64>,
}

/// Summarises detections (any order, duplicates by source id allowed).
pub fn summarise<'a>(detections: impl IntoIterator<Item = &'a Detection>) -> LightCurveSummary {
    let mut points: Vec<&Detection> = detections.into_iter().collect();
    points.sort_by(|a, b| {
        a.mjd
            .0
            .total_cmp(&b.mjd.0)
            .then(a.source_id.cmp(&b.source_id))
    });
    points.dedup_by_key(|d| d.source_id);
    let mut by_band: BTreeMap<Band, Vec<&Detection>> = BTreeMap::new();
    for d in &points {
        by_band.entry(d.band).or_default().push(d);
    }
    let bands = by_band
        .iter()
        .map(|(band, series)| band_summary(*band, series))
        .collect();
    LightCurveSummary {
        n_detections: i32::try_from(points.len()).unwrap_or(i32::MAX),
        bands,
        color_g_minus_r: colour(
            by_band.get(&Band::G).map_or(&[][..], Vec::as_slice),
            by_band.get(&Band::R).map_or(&[][..], Vec::as_slice),
        ),
    }
}

/// `series` is sorted by MJD and not empty.
fn band_summary(band: Band, series: &[&Detection]) -> BandSummary {
    let first = series[0];
    let latest = series[series.len() - 1];
    let peak = series
        .iter()
        .copied()
        .max_by(|a, b| a.flux.0.total_cmp(&b.flux.0))
        .unwrap_or(latest);
    // Magnitude change per day between two detections; only positive fluxes have a magnitude.
    let rate = |from: &Detection, to: &Detection| -> Option<f64> {
        let dt = to.mjd.0 - from.mjd.0;
        if dt <= 0.0 || from.flux.0 <= 0.0 || to.flux.0 <= 0.0 {
            return None;
        }
        Some((to.flux.ab_mag()? - from.flux.ab_mag()?) / dt)
    };
    BandSummary {
        band: band.as_str().to_owned(),
        n_detections: i32::try_from(series.len()).unwrap_or(i32::MAX),
        latest_mjd: latest.mjd.0,
        latest_flux_njy: latest.flux.0,
        latest_flux_err_njy: latest.flux_err.0,
        peak_flux_njy: peak.flux.0,
        peak_mjd: peak.mjd.0,
        // Brightening lowers the magnitude: report it positive.
        rise_rate_mag_per_day: rate(first, peak).map(|r| -r),
        fade_rate_mag_per_day: rate(peak, latest),
    }
}

/// g − r at the latest g epoch that has a positive r detection within a day.
fn colour(g: &[&Detection], r: &[&Detection]) -> Option<f64> {
    g.iter().rev().filter(|d| d.flux.0 > 0.0).find_map(|gd| {
        let rd = r
            .iter()
            .filter(|rd| rd.flux.0 > 0.0 && (rd.mjd.0 - gd.mjd.0).abs() <= SAME_EPOCH_DAYS)
            .min_by(|a, b| {
                (a.mjd.0 - gd.mjd.0)
                    .abs()
                    .total_cmp(&(b.mjd.0 - gd.mjd.0).abs())
            })?;
        Some(gd.flux.ab_mag()? - rd.flux.ab_mag()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alert_model::{DetectionQuality, FluxNjy, Mjd, SourceId};

    fn det(id: i64, mjd: f64, band: Band, mag: f64) -> Detection {
        let flux = FluxNjy::from_ab_mag(mag);
        Detection {
            source_id: SourceId(id),
            mjd: Mjd(mjd),
            band,
            ra: 0.0,
            dec: 0.0,
            flux,
            flux_err: FluxNjy(flux.0 / 20.0),
            mag: None,
            quality: DetectionQuality::default(),
        }
    }

    #[test]
    fn rise_fade_and_colour_of_a_transient() {
        // g: 19.0 → 18.0 (peak, 5 days later) → 18.5 (10 days after the peak); r at 17.8 with the peak.
        let points = [
            det(1, 100.0, Band::G, 19.0),
            det(2, 105.0, Band::G, 18.0),
            det(3, 105.2, Band::R, 17.8),
            det(4, 115.0, Band::G, 18.5),
            det(4, 115.0, Band::G, 18.5), // duplicate source id
        ];
        let s = summarise(&points);
        assert_eq!(s.n_detections, 4);
        let g = &s.bands[0];
        assert_eq!((g.band.as_str(), g.n_detections), ("g", 3));
        assert!((g.rise_rate_mag_per_day.unwrap() - 0.2).abs() < 1e-9);
        assert!((g.fade_rate_mag_per_day.unwrap() - 0.05).abs() < 1e-9);
        assert_eq!(g.peak_mjd, 105.0);
        assert_eq!(g.latest_mjd, 115.0);
        // The latest g (115) has no r within a day; the one at 105 does: 18.0 − 17.8.
        assert!((s.color_g_minus_r.unwrap() - 0.2).abs() < 1e-9);
    }

    #[test]
    fn negative_fluxes_have_no_rates_or_colour() {
        let mut a = det(1, 1.0, Band::G, 19.0);
        a.flux = FluxNjy(-a.flux.0);
        let b = det(2, 1.1, Band::R, 19.0);
        let s = summarise([&a, &b]);
        assert_eq!(s.color_g_minus_r, None);
        assert_eq!(s.bands[0].rise_rate_mag_per_day, None);
    }
}
