//! The Burn models: a sequence encoder over observation tokens (Transformer or GRU) fused with an
//! MLP over the GP grid and global features, with a 15-class head and a top-level head.

pub mod activation;
pub mod attention;
pub mod gru;
pub mod transformer;

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::{Bool, Distribution};
use serde::{Deserialize, Serialize};

use crate::features::{D_GLOBAL, D_GLOBAL_LEGACY, D_TOKEN};
use crate::taxonomy::{N_CLASSES, N_TOP};

use activation::gelu;
pub use gru::GruEncoder;
pub use transformer::TransformerSequenceEncoder;

/// Which sequence encoder reads the observation tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// A time-series Transformer encoder (Vaswani et al. 2017) over observations with their time,
    /// wavelength, flux and σ as token features (cf. Allam & McEwen 2024, "t2"; Pimentel et al. 2023).
    Transformer,
    /// A GRU (Cho et al. 2014) baseline (cf. Muthukrishna et al. 2019, RAPID).
    Gru,
}

/// Model hyperparameters, saved beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub architecture: Architecture,
    /// Token embedding width.
    pub d_model: usize,
    pub n_heads: usize,
    pub n_layers: usize,
    pub d_ff: usize,
    /// Width of the grid/global MLP.
    pub d_context: usize,
    /// Width of the embedding the heads (and the anomaly score) read.
    pub d_embedding: usize,
    /// Dropout probability, also used for MC dropout at inference (Gal & Ghahramani 2016).
    pub dropout: f64,
    /// Length of the flattened GP grid input.
    pub grid_len: usize,
    /// Number of global features (models saved before the field existed had 25).
    #[serde(default = "legacy_d_global")]
    pub d_global: usize,
}

fn legacy_d_global() -> usize {
    D_GLOBAL_LEGACY
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            architecture: Architecture::Transformer,
            d_model: 32,
            n_heads: 4,
            n_layers: 2,
            d_ff: 64,
            d_context: 64,
            d_embedding: 64,
            dropout: 0.1,
            grid_len: crate::features::FeatureConfig::default().grid_len(),
            d_global: D_GLOBAL,
        }
    }
}

/// A batch of model inputs.
#[derive(Debug, Clone)]
pub struct ModelInput {
    /// `[batch, tokens, D_TOKEN]`.
    pub tokens: Tensor<3>,
    /// `[batch, tokens]`, true where padded.
    pub pad_mask: Tensor<2, Bool>,
    /// `[batch, tokens, 1]`, 1 on real tokens, 0 on padding.
    pub valid: Tensor<3>,
    /// `[batch, grid_len]`.
    pub grid: Tensor<2>,
    /// `[batch, d_global]`, standardised.
    pub global: Tensor<2>,
}

/// What the network computes for a batch.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// `[batch, 15]` class logits.
    pub logits: Tensor<2>,
    /// `[batch, 3]` top-level logits.
    pub top_logits: Tensor<2>,
    /// `[batch, d_embedding]`.
    pub embedding: Tensor<2>,
}

/// The sequence encoder.
// One value per model: the variant size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum SequenceEncoder {
    Transformer(TransformerSequenceEncoder),
    Gru(GruEncoder),
}

impl SequenceEncoder {
    fn forward(&self, input: &ModelInput) -> Tensor<2> {
        match self {
            SequenceEncoder::Transformer(m) => m.forward(input),
            SequenceEncoder::Gru(m) => m.forward(input),
        }
    }
}

/// The classifier network.
#[derive(Module, Debug)]
pub struct LightCurveNet {
    encoder: SequenceEncoder,
    context_in: Linear,
    context_hidden: Linear,
    fuse: Linear,
    class_head: Linear,
    top_head: Linear,
    dropout: f64,
}

/// Inverted dropout that is on whenever `active`, whatever the device: Burn's `Dropout` only acts
/// on autodiff devices, and MC dropout needs it at inference too.
pub fn dropout<const D: usize>(x: Tensor<D>, prob: f64, active: bool) -> Tensor<D> {
    if !active || prob <= 0.0 {
        return x;
    }
    let keep = 1.0 - prob;
    let mask = x.random_like(Distribution::Bernoulli(keep));
    (x * mask).div_scalar(keep)
}

impl ModelConfig {
    pub fn init(&self, device: &Device) -> LightCurveNet {
        let encoder = match self.architecture {
            Architecture::Transformer => {
                SequenceEncoder::Transformer(TransformerSequenceEncoder::new(self, device))
            }
            Architecture::Gru => SequenceEncoder::Gru(GruEncoder::new(self, device)),
        };
        LightCurveNet {
            encoder,
            context_in: LinearConfig::new(self.grid_len + self.d_global, self.d_context)
                .init(device),
            context_hidden: LinearConfig::new(self.d_context, self.d_context).init(device),
            fuse: LinearConfig::new(2 * self.d_model + self.d_context, self.d_embedding)
                .init(device),
            class_head: LinearConfig::new(self.d_embedding, N_CLASSES).init(device),
            top_head: LinearConfig::new(self.d_embedding, N_TOP).init(device),
            dropout: self.dropout,
        }
    }
}

impl LightCurveNet {
    /// Forward pass; `stochastic` turns dropout on (training and MC-dropout inference).
    pub fn forward(&self, input: &ModelInput, stochastic: bool) -> ModelOutput {
        self.head(self.encode(input), input, stochastic)
    }

    /// The sequence encoder's pooled output, `[batch, 2·d_model]`. Outside autodiff it is
    /// deterministic, so MC-dropout samples can share it and rerun only [`LightCurveNet::head`].
    pub fn encode(&self, input: &ModelInput) -> Tensor<2> {
        self.encoder.forward(input)
    }

    /// The grid/global MLP's output, `[batch, d_context]`; dropout between its layers when
    /// `stochastic`.
    pub fn context(&self, input: &ModelInput, stochastic: bool) -> Tensor<2> {
        let ctx = Tensor::cat(vec![input.grid.clone(), input.global.clone()], 1);
        let ctx = gelu(self.context_in.forward(ctx));
        let ctx = dropout(ctx, self.dropout, stochastic);
        gelu(self.context_hidden.forward(ctx))
    }

    /// Context MLP, fusion and heads over an encoded sequence; dropout acts here.
    pub fn head(&self, seq: Tensor<2>, input: &ModelInput, stochastic: bool) -> ModelOutput {
        let ctx = self.context(input, stochastic);
        let joint = Tensor::cat(vec![seq, ctx], 1);
        let joint = dropout(joint, self.dropout, stochastic);
        let embedding = gelu(self.fuse.forward(joint));
        let h = dropout(embedding.clone(), self.dropout, stochastic);
        ModelOutput {
            logits: self.class_head.forward(h.clone()),
            top_logits: self.top_head.forward(h),
            embedding,
        }
    }
}

/// Masked mean and max over the token axis: `[batch, tokens, d]` → `[batch, 2d]`.
pub(crate) fn masked_pool(h: Tensor<3>, input: &ModelInput) -> Tensor<2> {
    let [b, _, d] = h.dims();
    let valid = input.valid.clone();
    let count = valid.clone().sum_dim(1).clamp_min(1.0); // [b, 1, 1]
    let mean = (h.clone() * valid.clone())
        .sum_dim(1)
        .div(count)
        .reshape([b, d]);
    let pad = input
        .pad_mask
        .clone()
        .unsqueeze_dim::<3>(2)
        .repeat_dim(2, d);
    let max = h.mask_fill(pad, -1e4).max_dim(1).reshape([b, d]);
    // Curves without tokens pool to zero rather than −1e4.
    let any = valid.max_dim(1).reshape([b, 1]);
    Tensor::cat(vec![mean, max * any], 1)
}

/// Width of a token's features.
pub const TOKEN_WIDTH: usize = D_TOKEN;
