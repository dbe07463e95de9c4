//! GELU, x·Φ(x) = ½·x·(1 + erf(x/√2)) (Hendrycks & Gimpel 2016), for inference on the CPU.
//!
//! Burn's `flex` backend evaluates erf one element at a time with libm's `erff`, which took a third
//! of the CPU time of a batch of year-long curves (the Transformer's feed-forward layers apply it
//! to 256 curves × 64 tokens × 64 units). Outside autodiff on a CPU device the activation is
//! computed here instead, over the tensor's values with a rational approximation of erf that the
//! compiler vectorises; training (autodiff) and other devices keep Burn's.

use burn::prelude::*;
use burn::tensor::{DType, TensorData};

/// GELU of `x`: Burn's where it must differentiate or the tensor lives on an accelerator, else
/// [`gelu_in_place`] on the values.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if device.is_autodiff() || !crate::inference::is_host_device(&device) || x.dtype() != DType::F32
    {
        return burn::tensor::activation::gelu(x);
    }
    let shape = x.shape();
    match x.clone().into_data().try_into_vec::<f32>() {
        Ok(mut values) => {
            gelu_in_place(&mut values);
            Tensor::from_data(TensorData::new(values, shape), &device)
        }
        Err(_) => burn::tensor::activation::gelu(x),
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
