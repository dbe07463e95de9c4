//! Time-series Transformer over observation tokens. Each token carries its time (relative to the
//! last point and to the peak), log wavelength, normalised flux, σ, S/N and detection flag; a linear
//! layer embeds it and a pre-norm encoder (Xiong et al. 2020) attends over the unpadded tokens.

use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

use super::{ModelConfig, ModelInput, TOKEN_WIDTH, masked_pool};

#[derive(Module, Debug)]
pub struct TransformerSequenceEncoder {
    embed: Linear,
    encoder: TransformerEncoder,
}

impl TransformerSequenceEncoder {
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        TransformerSequenceEncoder {
            embed: LinearConfig::new(TOKEN_WIDTH, config.d_model).init(device),
            encoder: TransformerEncoderConfig::new(
                config.d_model,
                config.d_ff,
                config.n_heads,
                config.n_layers,
            )
            .with_dropout(config.dropout)
            .with_norm_first(true)
            .init(device),
        }
    }

    /// `[batch, 2·d_model]`: masked mean and max of the encoded tokens.
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        let x = self.embed.forward(input.tokens.clone());
        let h = self
            .encoder
            .forward(TransformerEncoderInput::new(x).mask_pad(input.pad_mask.clone()));
        masked_pool(h, input)
    }
}
