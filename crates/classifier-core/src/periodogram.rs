//! Multi-band generalised Lomb–Scargle periodogram (Zechmeister & Kürster 2009, A&A 496, 577):
//! the period of pulsators and eclipsing binaries, which the sequence model cannot infer from a
//! few dozen irregular epochs alone (VanderPlas 2018, ApJS 236, 16, for the survey-data pitfalls).
//!
//! Each band's weighted mean is removed first, so differences between bands (colours) do not
//! masquerade as variability; weights are 1/σ².

use crate::lightcurve::LightCurve;

/// Highest frequency searched (cycles/day): δ Scuti stars reach 30 c/d, but at ZTF and LSST
/// cadences frequencies above ~10 c/d only alias onto lower ones.
const MAX_FREQUENCY: f64 = 10.0;
/// Frequency step as a fraction of the peak width 1/span (VanderPlas 2018, §7.1: 5–10 × oversampling).
const OVERSAMPLING: f64 = 5.0;
/// Upper bound on the grid, which keeps a year-long curve under a millisecond.
const MAX_FREQUENCIES: usize = 6000;
/// Points used at most (an even subsample of longer curves).
const MAX_POINTS: usize = 200;
/// Powers closer than this to the highest count as equal (rounding, not signal).
const TIE: f64 = 1e-12;

/// The strongest periodicity of a light curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Periodicity {
    /// Best period (days).
    pub period_days: f64,
    /// Normalised GLS power at that period, in [0, 1].
    pub power: f64,
    /// How far the peak stands above the rest of the periodogram, in its standard deviations.
    pub significance: f64,
}

/// Frequencies evaluated together, one per lane: every running sum is then a lane-wise (vertical)
/// operation, which maps onto vector instructions; a sum over points within one frequency would be
/// a serial reduction.
const LANES: usize = 4;

/// Per lane: Σw·cos, Σw·sin, Σwy·cos, Σwy·sin, Σw·cos², Σw·cos·sin.
type Sums = [[f64; LANES]; 6];

/// Normalised GLS power at the frequencies `f_min + k·df`, `k < n_freq`, of times `t`, weights
/// `w` (summing to one) and weighted centred fluxes `wy = w·(y − ȳ)` with `yy = Σ w·(y − ȳ)²`.
fn gls_powers(
    t: &[f64],
    w: &[f64],
    wy: &[f64],
    yy: f64,
    (f_min, df, n_freq): (f64, f64, usize),
) -> Vec<f64> {
    // cos/sin of 2πft for every point at the block's LANES frequencies, advanced to the next
    // block by one rotation of LANES·df per point.
    let tau = std::f64::consts::TAU;
    let mut c: Vec<[f64; LANES]> = t
        .iter()
        .map(|ti| std::array::from_fn(|j| (tau * (f_min + j as f64 * df) * ti).cos()))
        .collect();
    let mut s: Vec<[f64; LANES]> = t
        .iter()
        .map(|ti| std::array::from_fn(|j| (tau * (f_min + j as f64 * df) * ti).sin()))
        .collect();
    let step = LANES as f64 * df;
    let rotation: Vec<(f64, f64)> = t
        .iter()
        .map(|ti| ((tau * step * ti).cos(), (tau * step * ti).sin()))
        .collect();
    #[cfg(target_arch = "x86_64")]
    let vector = std::is_x86_feature_detected!("avx");

    let mut powers = Vec::with_capacity(n_freq.div_ceil(LANES) * LANES);
    while powers.len() < n_freq {
        #[cfg(target_arch = "x86_64")]
        let sums = if vector {
            // SAFETY: the CPU has just been checked to support AVX.
            unsafe { accumulate_avx(&mut c, &mut s, w, wy, &rotation) }
        } else {
            accumulate(&mut c, &mut s, w, wy, &rotation)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let sums = accumulate(&mut c, &mut s, w, wy, &rotation);
        let [sc, ss, syc, sys, scc, scs] = sums;
        for j in 0..LANES {
            // Zechmeister & Kürster 2009, eqs. 5–13 (ȳ already removed, so Y = 0).
            let cc = scc[j] - sc[j] * sc[j];
            let ssq = (1.0 - scc[j]) - ss[j] * ss[j];
            let cs = scs[j] - sc[j] * ss[j];
            let d = cc * ssq - cs * cs;
            let p = if d > 1e-12 {
                (ssq * syc[j] * syc[j] + cc * sys[j] * sys[j] - 2.0 * cs * syc[j] * sys[j])
                    / (yy * d)
            } else {
                0.0
            };
            powers.push(p.clamp(0.0, 1.0));
        }
    }
    powers.truncate(n_freq);
    powers
}

/// One block's sums over the points, each point's cos/sin then rotated on to the next block.
fn accumulate(
    c: &mut [[f64; LANES]],
    s: &mut [[f64; LANES]],
    w: &[f64],
    wy: &[f64],
    rotation: &[(f64, f64)],
) -> Sums {
    let mut sums = [[0.0; LANES]; 6];
    for (((ci, si), (&wi, &wyi)), &(dc, ds)) in c
        .iter_mut()
        .zip(s.iter_mut())
        .zip(w.iter().zip(wy))
        .zip(rotation)
    {
        for j in 0..LANES {
            let (cj, sj) = (ci[j], si[j]);
            let wc = wi * cj;
            sums[0][j] += wc;
            sums[1][j] += wi * sj;
            sums[2][j] += wyi * cj;
            sums[3][j] += wyi * sj;
            sums[4][j] += wc * cj;
            sums[5][j] += wc * sj;
            ci[j] = cj * dc - sj * ds;
            si[j] = sj * dc + cj * ds;
        }
    }
    sums
}

/// [`accumulate`] in 256-bit registers, one block of four frequencies per instruction (the
/// compiler does not vectorise the portable loop). The same operations in the same order and no
/// fused multiply–add, so the results are bit-identical.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn accumulate_avx(
    c: &mut [[f64; LANES]],
    s: &mut [[f64; LANES]],
    w: &[f64],
    wy: &[f64],
    rotation: &[(f64, f64)],
) -> Sums {
    use std::arch::x86_64::{
        _mm256_add_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_setzero_pd,
        _mm256_storeu_pd, _mm256_sub_pd,
    };
    let mut acc = [_mm256_setzero_pd(); 6];
    for (((ci, si), (&wi, &wyi)), &(dc, ds)) in c
        .iter_mut()
        .zip(s.iter_mut())
        .zip(w.iter().zip(wy))
        .zip(rotation)
    {
        // SAFETY: each `[f64; 4]` is four contiguous f64, as the unaligned loads and stores read
        // and write.
        unsafe {
            let (cv, sv) = (_mm256_loadu_pd(ci.as_ptr()), _mm256_loadu_pd(si.as_ptr()));
            let (wv, wyv) = (_mm256_set1_pd(wi), _mm256_set1_pd(wyi));
            let wc = _mm256_mul_pd(wv, cv);
            acc[0] = _mm256_add_pd(acc[0], wc);
            acc[1] = _mm256_add_pd(acc[1], _mm256_mul_pd(wv, sv));
            acc[2] = _mm256_add_pd(acc[2], _mm256_mul_pd(wyv, cv));
            acc[3] = _mm256_add_pd(acc[3], _mm256_mul_pd(wyv, sv));
            acc[4] = _mm256_add_pd(acc[4], _mm256_mul_pd(wc, cv));
            acc[5] = _mm256_add_pd(acc[5], _mm256_mul_pd(wc, sv));
            let (dcv, dsv) = (_mm256_set1_pd(dc), _mm256_set1_pd(ds));
            let c_next = _mm256_sub_pd(_mm256_mul_pd(cv, dcv), _mm256_mul_pd(sv, dsv));
            let s_next = _mm256_add_pd(_mm256_mul_pd(sv, dcv), _mm256_mul_pd(cv, dsv));
            _mm256_storeu_pd(ci.as_mut_ptr(), c_next);
            _mm256_storeu_pd(si.as_mut_ptr(), s_next);
        }
    }
    let mut sums = [[0.0; LANES]; 6];
    for (sum, v) in sums.iter_mut().zip(acc) {
        // SAFETY: a `[f64; 4]` holds the four lanes.
        unsafe { _mm256_storeu_pd(sum.as_mut_ptr(), v) };
    }
    sums
}

/// The best period of `lc`, or `None` with fewer than 6 points or a span under a day.
pub fn best_period(lc: &LightCurve) -> Option<Periodicity> {
    let pts = &lc.points;
    let n_all = pts.len();
    if n_all < 6 {
        return None;
    }
    let t0 = pts.first()?.mjd;
    let span = pts.last()?.mjd - t0;
    if span < 1.0 {
        return None;
    }
    let k = n_all.min(MAX_POINTS);
    let idx: Vec<usize> = (0..k).map(|j| j * (n_all - 1) / (k - 1).max(1)).collect();

    // Per-band weighted means removed; weights normalised to sum to one.
    let mut t = Vec::with_capacity(k);
    let mut y = Vec::with_capacity(k);
    let mut w = Vec::with_capacity(k);
    for band in alert_model::Band::ALL {
        let (mut sw, mut swy) = (0.0, 0.0);
        for &i in &idx {
            let p = &pts[i];
            if p.band == band {
                let wi = 1.0 / (p.flux_err_njy * p.flux_err_njy);
                sw += wi;
                swy += wi * p.flux_njy;
            }
        }
        if sw <= 0.0 {
            continue;
        }
        let mean = swy / sw;
        for &i in &idx {
            let p = &pts[i];
            if p.band == band {
                t.push(p.mjd - t0);
                y.push(p.flux_njy - mean);
                w.push(1.0 / (p.flux_err_njy * p.flux_err_njy));
            }
        }
    }
    let wsum: f64 = w.iter().sum();
    if !(wsum > 0.0 && wsum.is_finite()) {
        return None;
    }
    w.iter_mut().for_each(|v| *v /= wsum);
    let ybar: f64 = w.iter().zip(&y).map(|(w, y)| w * y).sum();
    let yy: f64 = w.iter().zip(&y).map(|(w, y)| w * (y - ybar).powi(2)).sum();
    if yy <= 0.0 {
        return None;
    }

    let df = 1.0 / (OVERSAMPLING * span);
    let f_min = df;
    let n_freq = (((MAX_FREQUENCY - f_min) / df).ceil() as usize).clamp(1, MAX_FREQUENCIES);
    // With the grid capped, spread it over the whole range (coarser than the oversampling asks).
    let df = (MAX_FREQUENCY - f_min) / n_freq as f64;
    let wy: Vec<f64> = w.iter().zip(&y).map(|(w, y)| w * (y - ybar)).collect();
    let powers = gls_powers(&t, &w, &wy, yy, (f_min, df, n_freq));
    // The lowest frequency among peaks equal to rounding: a regular cadence makes aliases
    // (f + k/cadence) as strong as the true peak, and which of those rounding puts on top must not
    // depend on the flux scale or the instruction set.
    let top = powers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let best = powers.iter().position(|&p| p >= top - TIE)?;
    let power = powers[best];
    let n = powers.len() as f64;
    let mean = powers.iter().sum::<f64>() / n;
    let sd = (powers.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n)
        .sqrt()
        .max(1e-9);
    Some(Periodicity {
        period_days: 1.0 / (f_min + best as f64 * df),
        power,
        significance: (power - mean) / sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lightcurve::Point;
    use alert_model::{Band, Survey};

    fn curve(period: f64, n: usize) -> LightCurve {
        // Epochs scattered over 90 nights by a hash (no cadence, so no aliases), two bands with
        // different amplitudes and offsets.
        let points = (0..n)
            .map(|i| {
                let hash = ((i as f64 * 12.9898 + 1.0).sin() * 43758.5453)
                    .abs()
                    .fract();
                let mjd = 60000.0 + 90.0 * hash;
                let band = if i % 2 == 0 { Band::G } else { Band::R };
                let amp = if band == Band::G { 1000.0 } else { 700.0 };
                let offset = if band == Band::G { 300.0 } else { -200.0 };
                Point {
                    mjd,
                    band,
                    flux_njy: offset + amp * (std::f64::consts::TAU * mjd / period).sin(),
                    flux_err_njy: 50.0,
                    detected: true,
                }
            })
            .collect();
        LightCurve::new("p", Survey::Ztf, points)
    }

    #[test]
    fn recovers_the_period_of_a_sinusoid() {
        for period in [0.55, 3.3, 17.0] {
            let best = best_period(&curve(period, 60)).expect("enough points");
            assert!(
                (best.period_days - period).abs() / period < 0.02,
                "period {period}: found {best:?}"
            );
            assert!(best.power > 0.8, "{best:?}");
            assert!(best.significance > 5.0, "{best:?}");
        }
    }

    #[test]
    fn fast_powers_match_the_direct_formula() {
        // Uneven times, 13 points, arbitrary weights.
        let t: Vec<f64> = (0..13).map(|i| (i * i) as f64 * 0.37 + i as f64).collect();
        let mut w: Vec<f64> = (0..13).map(|i| 1.0 + (i % 3) as f64).collect();
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        let y: Vec<f64> = t.iter().map(|t| (t * 0.9).sin() + 0.1 * t).collect();
        let ybar: f64 = w.iter().zip(&y).map(|(w, y)| w * y).sum();
        let wy: Vec<f64> = w.iter().zip(&y).map(|(w, y)| w * (y - ybar)).collect();
        let yy: f64 = w.iter().zip(&y).map(|(w, y)| w * (y - ybar).powi(2)).sum();
        // 501 frequencies: the last block of lanes is partly past the grid.
        let (f_min, df, n_freq) = (0.01, 0.013, 501);
        let fast = gls_powers(&t, &w, &wy, yy, (f_min, df, n_freq));
        assert_eq!(fast.len(), n_freq);
        for (k, p) in fast.iter().enumerate() {
            // Zechmeister & Kürster 2009, eqs. 5–13, with sin/cos evaluated directly.
            let omega = std::f64::consts::TAU * (f_min + k as f64 * df);
            let sum = |f: &dyn Fn(usize) -> f64| (0..t.len()).map(f).sum::<f64>();
            let (cos, sin) = (
                |i: usize| (omega * t[i]).cos(),
                |i: usize| (omega * t[i]).sin(),
            );
            let (sc, ss) = (sum(&|i| w[i] * cos(i)), sum(&|i| w[i] * sin(i)));
            let (syc, sys) = (sum(&|i| wy[i] * cos(i)), sum(&|i| wy[i] * sin(i)));
            let cc = sum(&|i| w[i] * cos(i) * cos(i)) - sc * sc;
            let ss2 = sum(&|i| w[i] * sin(i) * sin(i)) - ss * ss;
            let cs = sum(&|i| w[i] * cos(i) * sin(i)) - sc * ss;
            let direct = (ss2 * syc * syc + cc * sys * sys - 2.0 * cs * syc * sys)
                / (yy * (cc * ss2 - cs * cs));
            assert!(
                (p - direct.clamp(0.0, 1.0)).abs() < 1e-9,
                "f{k}: {p} vs {direct}"
            );
        }
    }

    /// The AVX loop and the portable one take the same steps, so the periodogram features (and
    /// the model's inputs) do not depend on the CPU.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_sums_equal_the_portable_ones_to_the_bit() {
        if !std::is_x86_feature_detected!("avx") {
            eprintln!("skipped: this CPU has no AVX");
            return;
        }
        let n = 13;
        let table = |k: usize| -> Vec<[f64; LANES]> {
            (0..n)
                .map(|i| std::array::from_fn(|j| ((i * 7 + j * 3 + k) as f64 * 0.37).sin()))
                .collect()
        };
        let (mut c, mut s) = (table(0), table(1));
        let (mut c_vector, mut s_vector) = (c.clone(), s.clone());
        let w: Vec<f64> = (0..n).map(|i| 0.1 + i as f64 * 0.01).collect();
        let wy: Vec<f64> = (0..n).map(|i| (i as f64).cos() * 0.05).collect();
        let rotation: Vec<(f64, f64)> = (0..n)
            .map(|i| ((i as f64 * 0.2).cos(), (i as f64 * 0.2).sin()))
            .collect();
        for _ in 0..3 {
            let portable = accumulate(&mut c, &mut s, &w, &wy, &rotation);
            // SAFETY: AVX was checked above.
            let vector =
                unsafe { accumulate_avx(&mut c_vector, &mut s_vector, &w, &wy, &rotation) };
            assert_eq!(portable, vector);
            assert_eq!((&c, &s), (&c_vector, &s_vector));
        }
    }

    /// On a regular cadence every alias of the peak has the same power to rounding; the choice
    /// must not move when the fluxes and errors are scaled (the same curve, two magnitudes fainter).
    #[test]
    fn ties_between_aliases_go_to_the_lowest_frequency_whatever_the_scale() {
        let rising = |scale: f64| {
            best_period(&crate::features::tests::rising_curve(scale)).expect("enough points")
        };
        let (bright, faint) = (rising(1.0), rising(10f64.powf(-0.8)));
        assert_eq!(bright.period_days, faint.period_days);
        assert!((bright.power - faint.power).abs() < 1e-9);
        // The longest period of the grid (one fifth of the 28.5-day span's resolution): a trend.
        assert!(bright.period_days > 28.5, "{bright:?}");
    }

    #[test]
    fn too_few_points_give_none() {
        assert!(best_period(&curve(2.0, 5)).is_none());
    }
}
