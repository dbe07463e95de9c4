//! GELU, x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016), and the exp of the attention's
//! softmax (`model/attention.rs`), for inference on the CPU.
//!
//! Burn's `flex` backend evaluates erf one element at a time with libm's `erff`, which took a third
//! of the CPU time of a batch of year-long curves (the Transformer's feed-forward layers apply it
//! to 256 curves × 64 tokens × 64 units). Outside autodiff on a CPU device the activation is
//! computed here instead, over the tensor's values with a rational approximation of erf that the
//! compiler vectorises; training (autodiff) and other devices keep Burn's.

use burn::prelude::*;
use burn::tensor::DType;

/// GELU of `x`: Burn's where it must differentiate or the tensor lives on an accelerator, else
/// [`gelu_in_place`] on the values.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    on_host_values(x, gelu_in_place, burn::tensor::activation::gelu)
}

/// `in_place` over the values of `x`, taking its buffer (no copy), where they are f32 in this
/// process's memory and nothing differentiates through them; else Burn's `op`.
fn on_host_values<const D: usize>(
    x: Tensor<D>,
    in_place: impl FnOnce(&mut [f32]),
    op: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    let device = x.device();
    if device.is_autodiff() || !crate::inference::is_host_device(&device) || x.dtype() != DType::F32
    {
        return op(x);
    }
    let mut data = x.into_data();
    let done = data.as_mut_slice::<f32>().map(in_place).is_ok();
    let x = Tensor::from_data(data, &device);
    if done { x } else { op(x) }
}

/// eˣ for f32 without a library call, so loops over it vectorise: x = n·ln 2 + r with
/// |r| ≤ ½·ln 2 (ln 2 split in two for exactness), eʳ by Cephes' degree-6 polynomial (`expf.c`,
/// S. Moshier), 2ⁿ written into the exponent bits. Within 2·10⁻⁷ relative of `f32::exp` on
/// [−87.3, 88.3] (test; softmax only needs x ≤ 0); 0 below (where `f32::exp` becomes
/// subnormal), e^88.3 up to f32's overflow at 88.72, +∞ beyond.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a library call.
    const ROUND: f32 = 12_582_912.0;
    let clamped = x.clamp(-87.3, 88.3);
    let shifted = clamped * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let mut p = 1.987_569_2e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, 0.5 in f32
    let e_r = p * r * r + r + 1.0;
    // `shifted` is 1.5·2²³ + n, so its low bits hold n: reading them instead of `n as i32` (a
    // saturating conversion the compiler does one lane at a time) keeps the loop vectorised.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let two_to_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    let y = e_r * two_to_n;
    if x < -87.3 {
        0.0
    } else if x > 88.72 {
        f32::INFINITY
    } else {
        y
    }
}

/// ½·x·(1 + erf(x/√2)) over `values`, with erf from [`erf`].
pub fn gelu_in_place(values: &mut [f32]) {
    for v in values.iter_mut() {
        let x = *v;
        *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf(x) for f32 as x·P(x²)/Q(x²) on [−4, 4] (±1 to f32 precision beyond): the rational
/// approximation of Eigen's `generic_fast_erf_float` (Eigen 3.4, `GenericPacketMathFunctions.h`).
/// Within 4.4·10⁻⁷ of erf everywhere (test), so GELU's outputs move by under 10⁻⁶.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -1.609_603_3e-2,
        -2.954_6e-3,
        -7.349_906_3e-4,
        -5.692_506_4e-5,
        -2.101_024e-6,
        2.770_681_4e-8,
        -2.726_142_3e-10,
    ];
    const BETA: [f32; 5] = [
        -1.426_474e-2,
        -7.373_329e-3,
        -1.682_827e-3,
        -2.133_740_6e-4,
        -1.456_607_2e-5,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = ALPHA[6];
    for &a in ALPHA[..6].iter().rev() {
        p = p * x2 + a;
    }
    let mut q = BETA[4];
    for &b in BETA[..4].iter().rev() {
        q = q * x2 + b;
    }
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn erf_is_within_half_a_micro_of_libm() {
        let mut worst = 0.0f64;
        for i in -700_000..=700_000 {
            let x = i as f64 * 1e-5;
            let err = (f64::from(erf(x as f32)) - libm::erf(f64::from(x as f32))).abs();
            worst = worst.max(err);
        }
        assert!(worst < 4.5e-7, "worst error {worst:e}");
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(f32::INFINITY), erf(4.0));
        assert!(erf(f32::NAN).is_nan());
    }

    #[test]
    fn exp_is_within_two_tenths_of_a_micro_of_std() {
        let mut worst = 0.0f64;
        for i in -873_000..=883_000 {
            let x = i as f32 * 1e-4;
            let (ours, std) = (f64::from(exp(x)), f64::from(x.exp()));
            worst = worst.max((ours - std).abs() / std);
        }
        assert!(worst < 2e-7, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e4), 0.0);
        assert_eq!(exp(1e4), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn the_host_gelu_matches_burns() {
        let device = crate::default_device();
        let values: Vec<f32> = (0..4096).map(|i| (i as f32 - 2048.0) / 256.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(values, [64, 64]), &device);
        let ours = crate::inference::to_vec(gelu(x.clone()));
        let burns = crate::inference::to_vec(burn::tensor::activation::gelu(x));
        assert_eq!(ours.len(), burns.len());
        for (a, b) in ours.iter().zip(&burns) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
