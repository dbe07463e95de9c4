//! Time-series Transformer over observation tokens. Each token carries its time (relative to the
//! last point and to the peak), log wavelength, normalised flux, σ, S/N and detection flag; a linear
//! layer embeds it and a pre-norm encoder (Xiong et al. 2020) attends over the unpadded tokens.

use burn::nn::activation::Activation;
use burn::nn::attention::{MhaInput, MultiHeadAttention};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput, TransformerEncoderLayer,
};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Bool;

use super::activation::gelu;
use super::attention::self_attention_context;
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
        let h = if x.device().is_autodiff() {
            self.encoder
                .forward(TransformerEncoderInput::new(x).mask_pad(input.pad_mask.clone()))
        } else {
            self.encoder.layers.iter().fold(x, |x, layer| {
                encoder_layer_inference(layer, x, &input.pad_mask)
            })
        };
        masked_pool(h, input)
    }
}

/// Burn's `TransformerEncoderLayer::forward` (burn-nn 0.22.1) outside autodiff, where its dropout
/// is the identity, with the feed-forward's GELU from [`gelu`] (the same weights and function; see
/// `model/activation.rs` for why). A layer with another activation runs Burn's forward.
fn encoder_layer_inference(
    layer: &TransformerEncoderLayer,
    x: Tensor<3>,
    pad_mask: &Tensor<2, Bool>,
) -> Tensor<3> {
    if !matches!(layer.pwff.activation, Activation::Gelu(_)) {
        return layer.forward(x, Some(pad_mask.clone()), None);
    }
    let attention_in = if layer.norm_first {
        layer.norm_2.forward(x.clone())
    } else {
        x.clone()
    };
    let attended = self_attention_inference(&layer.mha, attention_in, pad_mask);
    let mut x = x + attended;
    let feed_forward_in = if layer.norm_first {
        layer.norm_1.forward(x.clone())
    } else {
        x = layer.norm_1.forward(x);
        x.clone()
    };
    let pwff = &layer.pwff;
    let fed = pwff
        .linear_outer
        .forward(gelu(pwff.linear_inner.forward(feed_forward_in)));
    let x = x + fed;
    if layer.norm_first {
        x
    } else {
        layer.norm_2.forward(x)
    }
}

/// Burn's `MultiHeadAttention::forward` (burn-nn 0.22.1) as self-attention outside autodiff, where
/// its dropout is the identity: Burn's projections around [`self_attention_context`] on a CPU
/// device, Burn's whole forward elsewhere and for quiet softmax.
fn self_attention_inference(
    mha: &MultiHeadAttention,
    x: Tensor<3>,
    pad_mask: &Tensor<2, Bool>,
) -> Tensor<3> {
    let burns = |x: Tensor<3>| {
        mha.forward(MhaInput::self_attn(x).mask_pad(pad_mask.clone()))
            .context
    };
    if mha.quiet_softmax || !crate::inference::is_host_device(&x.device()) {
        return burns(x);
    }
    let query = mha.query.forward(x.clone());
    let key = mha.key.forward(x.clone());
    let value = mha.value.forward(x.clone());
    match self_attention_context(
        query,
        key,
        value,
        mha.n_heads,
        pad_mask,
        mha.min_float as f32,
    ) {
        Some(context) => mha.output.forward(context),
        None => burns(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::to_vec;
    use burn::tensor::{Distribution, TensorData};

    /// The inference path re-implements Burn's encoder layer; on the same weights it must give
    /// Burn's outputs (whose dropout is off outside autodiff), for pre- and post-norm layers and
    /// padded curves. A missing residual or a norm in the wrong place moves outputs by O(1); the
    /// GELU approximation by about 10⁻⁶.
    #[test]
    fn the_inference_layers_match_burns_encoder() {
        let device = crate::default_device();
        let lengths = [10usize, 6, 1];
        for norm_first in [true, false] {
            let encoder = TransformerEncoderConfig::new(32, 64, 4, 2)
                .with_norm_first(norm_first)
                .init(&device);
            let x = Tensor::<3>::random([3, 10, 32], Distribution::Normal(0.0, 1.0), &device);
            let pad: Vec<bool> = lengths
                .iter()
                .flat_map(|&n| (0..10).map(move |t| t >= n))
                .collect();
            let pad_mask = Tensor::<2, Bool>::from_data(TensorData::new(pad, [3, 10]), &device);
            let burns =
                encoder.forward(TransformerEncoderInput::new(x.clone()).mask_pad(pad_mask.clone()));
            let ours = encoder
                .layers
                .iter()
                .fold(x, |x, layer| encoder_layer_inference(layer, x, &pad_mask));
            let (burns, ours) = (to_vec(burns), to_vec(ours));
            assert_eq!(burns.len(), 3 * 10 * 32);
            assert_eq!(burns.len(), ours.len());
            let worst = crate::inference::largest_difference(&burns, &ours);
            assert!(worst < 1e-4, "norm_first {norm_first}: {worst}");
        }
    }
}
