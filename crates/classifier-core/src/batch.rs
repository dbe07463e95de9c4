//! Stacking per-curve [`Features`] into a padded [`ModelInput`] batch.

use burn::prelude::*;
use burn::tensor::{Bool, TensorData};

use crate::features::{D_TOKEN, Features, Standardizer};
use crate::model::ModelInput;

/// Builds a batch on `device`. Tokens are right-padded to the longest curve (at least one token).
pub fn make_batch(
    items: &[&Features],
    standardizer: &Standardizer,
    grid_len: usize,
    device: &Device,
) -> ModelInput {
    let b = items.len();
    // The standardiser was fitted on the model's global features, so it knows their number.
    let d_global = standardizer.mean.len();
    let l = items.iter().map(|f| f.n_tokens).max().unwrap_or(0).max(1);
    let mut tokens = vec![0f32; b * l * D_TOKEN];
    let mut pad = vec![true; b * l];
    let mut valid = vec![0f32; b * l];
    let mut grid = Vec::with_capacity(b * grid_len);
    let mut global = Vec::with_capacity(b * d_global);
    for (i, f) in items.iter().enumerate() {
        let n = f.n_tokens.min(l);
        tokens[i * l * D_TOKEN..i * l * D_TOKEN + n * D_TOKEN]
            .copy_from_slice(&f.tokens[..n * D_TOKEN]);
        for j in 0..n {
            pad[i * l + j] = false;
            valid[i * l + j] = 1.0;
        }
        let mut g = f.grid.clone();
        g.resize(grid_len, 0.0);
        grid.extend_from_slice(&g);
        let before = global.len();
        standardizer.apply(&f.global, &mut global);
        global.resize(before + d_global, 0.0);
    }
    ModelInput {
        tokens: Tensor::from_data(TensorData::new(tokens, [b, l, D_TOKEN]), device),
        pad_mask: Tensor::<2, Bool>::from_data(TensorData::new(pad, [b, l]), device),
        valid: Tensor::from_data(TensorData::new(valid, [b, l, 1]), device),
        grid: Tensor::from_data(TensorData::new(grid, [b, grid_len]), device),
        global: Tensor::from_data(TensorData::new(global, [b, d_global]), device),
    }
}
