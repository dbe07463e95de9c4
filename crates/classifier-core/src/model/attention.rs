//! Scaled dot-product self-attention (Vaswani et al. 2017, eq. 1) over heads, for inference on the
//! CPU.
//!
//! Burn's `MultiHeadAttention` materialises every head's scores: for a batch of year-long curves
//! (256 curves × 4 heads × 64 × 64 per layer) a 16 MiB tensor that is allocated, filled by a
//! matrix product with an inner dimension of only d_k = 8, scaled, masked, normalised and read
//! again by a second product, each a pass through memory. Here each (curve, head) is computed
//! while its keys and values sit in L1: a query's scores, their softmax and its context in one
//! row buffer. Training (autodiff) and other devices keep Burn's operations.

use burn::prelude::*;
use burn::tensor::{Bool, DType, TensorData};

use super::activation::exp;

/// The attention context of `query`, `key` and `value` (`[batch, length, d_model]`, the
/// projections before the split into `n_heads` heads) with the keys `key_padding` marks
/// (`[batch, length]`, true where padded) set to `masked_value` before the softmax: Burn's
/// `MultiHeadAttention` between its input and output projections, heads concatenated along
/// `d_model` as its `swap_dims` and `reshape` leave them. `None` where the values are not f32 in
/// this process's memory or something differentiates through them; the caller then runs Burn's.
pub fn self_attention_context(
    query: Tensor<3>,
    key: Tensor<3>,
    value: Tensor<3>,
    n_heads: usize,
    key_padding: &Tensor<2, Bool>,
    masked_value: f32,
) -> Option<Tensor<3>> {
    let device = query.device();
    let [batch, length, d_model] = query.dims();
    if device.is_autodiff()
        || !crate::inference::is_host_device(&device)
        || query.dtype() != DType::F32
        || n_heads == 0
        || d_model % n_heads != 0
        || key.dims() != [batch, length, d_model]
        || value.dims() != [batch, length, d_model]
    {
        return None;
    }
    let values = |x: Tensor<3>| x.into_data().try_into_vec::<f32>().ok();
    let (query, key, value) = (values(query)?, values(key)?, values(value)?);
    let padding: Vec<bool> = key_padding.to_data().iter::<bool>().collect();
    if padding.len() != batch * length {
        return None;
    }
    let mut context = vec![0.0f32; batch * length * d_model];
    let shape = Shape {
        length,
        d_model,
        n_heads,
    };
    let inputs = Inputs {
        query: &query,
        key: &key,
        value: &value,
        padding: &padding,
        masked_value,
    };
    attend(&inputs, shape, &mut context);
    Some(Tensor::from_data(
        TensorData::new(context, [batch, length, d_model]),
        &device,
    ))
}

#[derive(Clone, Copy)]
struct Shape {
    length: usize,
    d_model: usize,
    n_heads: usize,
}

struct Inputs<'a> {
    query: &'a [f32],
    key: &'a [f32],
    value: &'a [f32],
    padding: &'a [bool],
    masked_value: f32,
}

/// [`attend_rows`] in 256-bit registers where the CPU has AVX2 (detected at run time), else
/// the same operations in the same order in 128-bit ones: both give the same bits (test).
fn attend(inputs: &Inputs, shape: Shape, context: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been checked to support AVX2.
        unsafe { attend_avx2(inputs, shape, context) };
        return;
    }
    attend_rows(inputs, shape, context);
}

/// [`attend_rows`] compiled for AVX2 (no FMA: Rust never fuses a multiply and an add on its own,
/// so the arithmetic is the portable path's).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn attend_avx2(inputs: &Inputs, shape: Shape, context: &mut [f32]) {
    attend_rows(inputs, shape, context);
}

/// f32 lanes of a 256-bit register: keys per step of the scores, columns per step of the
/// weighted values, partial maxima and sums of the softmax.
const LANES: usize = 8;

/// Every curve and head: the keys transposed once (`d_k × length`, so a query's scores are
/// lane-wise sums over d_k), then per query its scores q·k / √d_k, the padded keys masked, the
/// softmax, and the weighted sum of the values.
#[inline(always)]
fn attend_rows(inputs: &Inputs, shape: Shape, context: &mut [f32]) {
    let Shape {
        length,
        d_model,
        n_heads,
    } = shape;
    let d_k = d_model / n_heads;
    let curve_len = length * d_model;
    if curve_len == 0 || d_k == 0 {
        return;
    }
    // Burn divides the scores by √d_k (burn-nn 0.22.1, `MultiHeadAttention::attn_scores`).
    let divisor = (d_k as f32).sqrt();
    let mut keys_t = vec![0.0f32; d_k * length];
    let mut weights = vec![0.0f32; length];
    let curves = inputs
        .query
        .chunks_exact(curve_len)
        .zip(inputs.key.chunks_exact(curve_len))
        .zip(inputs.value.chunks_exact(curve_len))
        .zip(inputs.padding.chunks_exact(length))
        .zip(context.chunks_exact_mut(curve_len));
    for ((((query, key), value), padding), context) in curves {
        for head in 0..n_heads {
            let columns = head * d_k..(head + 1) * d_k;
            for (t, key_row) in key.chunks_exact(d_model).enumerate() {
                for (d, &k) in key_row[columns.clone()].iter().enumerate() {
                    keys_t[d * length + t] = k;
                }
            }
            for (query_row, context_row) in query
                .chunks_exact(d_model)
                .zip(context.chunks_exact_mut(d_model))
            {
                scores(&query_row[columns.clone()], &keys_t, &mut weights);
                softmax_scores(&mut weights, padding, divisor, inputs.masked_value);
                weighted_values(
                    &weights,
                    value,
                    d_model,
                    &mut context_row[columns.clone()],
                    columns.start,
                );
            }
        }
    }
}

/// q·k for every key, from the keys transposed (`d_k` rows of `length`): eight keys at a time
/// in a local accumulator (registers), summed over d_k in order.
#[inline(always)]
fn scores(query: &[f32], keys_t: &[f32], out: &mut [f32]) {
    let length = out.len();
    let full = length - length % LANES;
    for start in (0..full).step_by(LANES) {
        let mut acc = [0.0f32; LANES];
        for (&q, keys_d) in query.iter().zip(keys_t.chunks_exact(length)) {
            for (a, &k) in acc.iter_mut().zip(&keys_d[start..start + LANES]) {
                *a += q * k;
            }
        }
        out[start..start + LANES].copy_from_slice(&acc);
    }
    for (t, o) in out.iter_mut().enumerate().skip(full) {
        *o = query
            .iter()
            .zip(keys_t.chunks_exact(length))
            .fold(0.0, |sum, (&q, keys_d)| sum + q * keys_d[t]);
    }
}

/// Σ_t w_t·v_t over the keys into `out` (one head's `d_k` columns from `column`), eight columns
/// at a time in local accumulators (registers) with four keys in flight, added in a fixed order.
#[inline(always)]
fn weighted_values(weights: &[f32], value: &[f32], d_model: usize, out: &mut [f32], column: usize) {
    for (offset, out) in out.chunks_mut(LANES).enumerate() {
        let first = column + offset * LANES;
        if out.len() < LANES {
            for (j, o) in out.iter_mut().enumerate() {
                *o = weights
                    .iter()
                    .enumerate()
                    .fold(0.0, |sum, (t, &w)| sum + w * value[t * d_model + first + j]);
            }
            continue;
        }
        let row = |t: usize| &value[t * d_model + first..t * d_model + first + LANES];
        let mut acc = [[0.0f32; LANES]; 4];
        let mut quads = weights.chunks_exact(4);
        for (q, quad) in (&mut quads).enumerate() {
            for (j, (acc, &w)) in acc.iter_mut().zip(quad).enumerate() {
                axpy(acc, w, row(4 * q + j));
            }
        }
        let done = weights.len() - quads.remainder().len();
        for (t, &w) in quads.remainder().iter().enumerate() {
            axpy(&mut acc[0], w, row(done + t));
        }
        for (j, o) in out.iter_mut().enumerate() {
            *o = (acc[0][j] + acc[1][j]) + (acc[2][j] + acc[3][j]);
        }
    }
}

/// acc += w·x, lane by lane.
#[inline(always)]
fn axpy(acc: &mut [f32; LANES], w: f32, x: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(x) {
        *a += w * x;
    }
}

/// One query's scores to attention weights in place: divided by `divisor`, the padded keys set
/// to `masked_value`, then exp(v − max) / Σ exp(v − max), the max and the sum in eight lanes.
#[inline(always)]
fn softmax_scores(scores: &mut [f32], padding: &[bool], divisor: f32, masked_value: f32) {
    for (v, &padded) in scores.iter_mut().zip(padding) {
        *v = if padded { masked_value } else { *v / divisor };
    }
    let mut maxes = [f32::NEG_INFINITY; LANES];
    let mut chunks = scores.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (max, &v) in maxes.iter_mut().zip(chunk) {
            if v > *max {
                *max = v;
            }
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&maxes)
        .fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for v in scores.iter_mut() {
        *v = exp(*v - max);
    }
    let mut sums = [0.0f32; LANES];
    let mut chunks = scores.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (sum, &v) in sums.iter_mut().zip(chunk) {
            *sum += v;
        }
    }
    let sum = chunks.remainder().iter().fold(
        ((sums[0] + sums[4]) + (sums[1] + sums[5])) + ((sums[2] + sums[6]) + (sums[3] + sums[7])),
        |a, &b| a + b,
    );
    let inverse = 1.0 / sum;
    for v in scores.iter_mut() {
        *v *= inverse;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// Burn's attention between the projections: heads split, scores scaled and masked,
    /// softmax, weighted values, heads merged.
    fn burns_context(
        query: Tensor<3>,
        key: Tensor<3>,
        value: Tensor<3>,
        n_heads: usize,
        key_padding: Tensor<2, Bool>,
    ) -> Tensor<3> {
        let [batch, length, d_model] = query.dims();
        let d_k = d_model / n_heads;
        let heads = |x: Tensor<3>| x.reshape([batch, length, n_heads, d_k]).swap_dims(1, 2);
        let scores = heads(query)
            .matmul(heads(key).transpose())
            .div_scalar((d_k as f32).sqrt())
            .mask_fill(key_padding.reshape([batch, 1, 1, length]), -1e4);
        burn::tensor::activation::softmax(scores, 3)
            .matmul(heads(value))
            .swap_dims(1, 2)
            .reshape([batch, length, d_model])
    }

    #[test]
    fn the_host_attention_matches_burns() {
        let device = crate::default_device();
        // 13 and 64 tokens (a remainder after the softmax's eight lanes, and none); the curves
        // pad none, four and all but one of their tokens.
        for length in [13usize, 64] {
            let lengths = [length, length - 4, 1];
            let padding: Vec<bool> = lengths
                .iter()
                .flat_map(|&n| (0..length).map(move |t| t >= n))
                .collect();
            let key_padding = Tensor::<2, Bool>::from_data(
                TensorData::new(padding.clone(), [3, length]),
                &device,
            );
            let random =
                || Tensor::<3>::random([3, length, 32], Distribution::Normal(0.0, 2.0), &device);
            let (query, key, value) = (random(), random(), random());
            let ours = self_attention_context(
                query.clone(),
                key.clone(),
                value.clone(),
                4,
                &key_padding,
                -1e4,
            )
            .expect("flex computes on the host");
            let burns = burns_context(query, key, value.clone(), 4, key_padding);
            let (ours, burns) = (
                crate::inference::to_vec(ours),
                crate::inference::to_vec(burns),
            );
            assert_eq!(ours.len(), 3 * length * 32);
            let worst = crate::inference::largest_difference(&ours, &burns);
            assert!(worst < 1e-5, "{length} tokens: {worst}");
            // The one-token curve attends only to its first token: its context is that
            // token's value, whatever the padded keys hold.
            let value = crate::inference::to_vec(value);
            let last = 2 * length * 32;
            for q in 0..length {
                let at = last + q * 32;
                for d in 0..32 {
                    assert!((ours[at + d] - value[last + d]).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn the_avx2_attention_equals_the_portable_one_to_the_bit() {
        #[cfg(target_arch = "x86_64")]
        {
            if !std::is_x86_feature_detected!("avx2") {
                eprintln!("skipped: this CPU has no AVX2");
                return;
            }
            for length in [13usize, 64] {
                let d_model = 32;
                let n = 3 * length * d_model;
                let series = |k: usize| -> Vec<f32> {
                    (0..n)
                        .map(|i| (((i * 37 + k * 11) % 101) as f32 - 50.0) / 12.5)
                        .collect()
                };
                let (query, key, value) = (series(0), series(1), series(2));
                let padding: Vec<bool> =
                    (0..3 * length).map(|i| i % length >= length - 3).collect();
                let inputs = Inputs {
                    query: &query,
                    key: &key,
                    value: &value,
                    padding: &padding,
                    masked_value: -1e4,
                };
                let shape = Shape {
                    length,
                    d_model,
                    n_heads: 4,
                };
                let mut portable = vec![0.0f32; n];
                let mut vector = vec![0.0f32; n];
                attend_rows(&inputs, shape, &mut portable);
                // SAFETY: AVX2 was detected above.
                unsafe { attend_avx2(&inputs, shape, &mut vector) };
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&portable), bits(&vector), "{length} tokens");
            }
        }
    }
}
