//! GRU baseline over the same observation tokens (cf. RAPID, Muthukrishna et al. 2019, PASP 131,
//! 118002, which reads the light curve with recurrent layers).

use burn::nn::{Gru, GruConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::{ModelConfig, ModelInput, TOKEN_WIDTH, masked_pool};

#[derive(Module, Debug)]
pub struct GruEncoder {
    embed: Linear,
    gru: Gru,
}

impl GruEncoder {
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        GruEncoder {
            embed: LinearConfig::new(TOKEN_WIDTH, config.d_model).init(device),
            gru: GruConfig::new(config.d_model, config.d_model, true).init(device),
        }
    }

    /// `[batch, 2·d_model]`: masked mean and max of the hidden states (padding is at the end, so
    /// it never feeds a real token's state).
    pub fn forward(&self, input: &ModelInput) -> Tensor<2> {
        let x = self.embed.forward(input.tokens.clone());
        let h = self.gru.forward(x, None);
        masked_pool(h, input)
    }
}
