"""The denoiser: diffusers' PixArt-alpha transformer (Chen et al. 2023) over the 8x8 latent.

PixArt's block is self-attention -> cross-attention to the (projected) caption -> MLP with
adaLN-single timestep conditioning, i.e. Muse's block plus a timestep, so with patch size 1, the
same width and depth, its FLOPs per step sit within a few percent of the Muse transformer's.
The one structural difference: PixArt recomputes the text keys/values at every step, where the
Muse transformer caches them once per call; that is part of the measured FLOPs.
"""

from __future__ import annotations

import torch
from diffusers import PixArtTransformer2DModel
from torch import nn

from reference_model.ldm.config import DenoiserConfig


class CodeHeadDenoiser(nn.Module):
    """PixArt with logits over the VQ codebook as its output (DenoiserConfig.head == "codes").

    CDCD (Dieleman et al. 2022, "Continuous diffusion for categorical data", §3): the network
    classifies each position's clean code from the noisy latent (cross-entropy, Muse's loss) and
    its x0 estimate is the softmax-weighted mean of the code embeddings ("score interpolation"),
    which any diffusers scheduler consumes with prediction_type="sample". `codes` (K, C) holds the
    scaled unit-norm codebook the latents were made from, so the checkpoint is self-contained.
    """

    def __init__(self, config: DenoiserConfig) -> None:
        super().__init__()
        self.self_condition = config.self_condition
        in_channels = config.latent_channels * (2 if config.self_condition else 1)  # [x_t; previous x0]
        self.transformer = _pixart(config, out_channels=config.codebook_size, in_channels=in_channels)
        self.register_buffer("codes", torch.zeros(config.codebook_size, config.latent_channels))  # (K, C)

    def logits(self, latents, timesteps, text_hidden, text_mask, x0_prev=None) -> torch.Tensor:
        """-> (B, K, g, g) logits of each position's clean code. x0_prev (B, C, g, g): the previous
        x0 estimate when self-conditioning (None: zeros, the first step)."""
        if self.self_condition:
            latents = torch.cat([latents, torch.zeros_like(latents) if x0_prev is None else x0_prev], dim=1)
        return _pixart_call(self.transformer, latents, timesteps, text_hidden, text_mask)

    def forward(self, latents, timesteps, text_hidden, text_mask, x0_prev=None) -> torch.Tensor:
        """-> x0 estimate (B, C, g, g) = sum_k softmax(logits)_k codes_k."""
        probs = self.logits(latents, timesteps, text_hidden, text_mask, x0_prev).softmax(dim=1)  # (B, K, g, g)
        return torch.einsum("bkhw,kc->bchw", probs, self.codes)


def build_denoiser(config: DenoiserConfig) -> nn.Module:
    """The bare denoiser of `config`: PixArt (head "noise") or PixArt with a codebook head."""
    if config.head == "codes":
        return CodeHeadDenoiser(config)
    return _pixart(config, out_channels=config.latent_channels)  # one prediction per channel (no learned variance)


def _pixart(config: DenoiserConfig, out_channels: int, in_channels: int | None = None) -> PixArtTransformer2DModel:
    width = config.heads * config.head_dim
    return PixArtTransformer2DModel(
        num_attention_heads=config.heads,
        attention_head_dim=config.head_dim,
        in_channels=in_channels or config.latent_channels,
        out_channels=out_channels,
        num_layers=config.depth,
        dropout=config.dropout,
        cross_attention_dim=width,
        sample_size=config.grid,
        patch_size=1,  # one token per latent position, as Muse has one token per code
        caption_channels=config.text_dim,
        use_additional_conditions=False,  # no resolution/aspect micro-conditioning at one size
    )


def new_denoiser(config: DenoiserConfig) -> nn.Module:
    """A denoiser to train from scratch, initialised as the PixArt-alpha reference does.

    diffusers' PixArtTransformer2DModel has no init of its own (it expects pretrained weights), so
    built bare it keeps PyTorch's defaults: a random output layer and random cross-attention output
    projections, i.e. a network that starts far from "predict nothing". PixArt's
    `initialize_weights` (PixArt-alpha, diffusion/model/nets/PixArt.py, after DiT's adaLN-Zero,
    Peebles & Xie 2023 §3.2) starts every block as the identity on the text path and the model
    output at zero, which DiT reports converges markedly faster.
    """
    model = build_denoiser(config)
    init_like_pixart(model.transformer if isinstance(model, CodeHeadDenoiser) else model)
    return model


@torch.no_grad()
def init_like_pixart(model: PixArtTransformer2DModel) -> None:
    """PixArt-alpha's initialize_weights, mapped onto diffusers' module names (in place)."""
    for module in model.modules():
        if isinstance(module, nn.Linear):  # _basic_init
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    w = model.pos_embed.proj.weight  # (width, C, p, p): patch embedding initialised like nn.Linear
    nn.init.xavier_uniform_(w.view(w.shape[0], -1))
    nn.init.zeros_(model.pos_embed.proj.bias)
    t_emb = model.adaln_single.emb.timestep_embedder  # PixArt's t_embedder.mlp[0], mlp[2]
    for layer in (t_emb.linear_1, t_emb.linear_2, model.adaln_single.linear):  # ... and t_block[1]
        nn.init.normal_(layer.weight, std=0.02)
    for layer in (model.caption_projection.linear_1, model.caption_projection.linear_2):  # y_embedder.y_proj
        nn.init.normal_(layer.weight, std=0.02)
    for block in model.transformer_blocks:  # zero the cross-attention output: each block starts text-free
        nn.init.zeros_(block.attn2.to_out[0].weight)
        nn.init.zeros_(block.attn2.to_out[0].bias)
    nn.init.zeros_(model.proj_out.weight)  # zero output layer: the fresh model predicts 0
    nn.init.zeros_(model.proj_out.bias)


def predict(
    denoiser: nn.Module,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    text_hidden: torch.Tensor,
    text_mask: torch.Tensor,
    x0_prev: torch.Tensor | None = None,
) -> torch.Tensor:
    """latents (B, C, g, g), timesteps (B,), text (B, L, D) + mask (B, L) bool -> (B, C, g, g):
    the prediction the noise config names (eps, v, or x0 for the codebook head). x0_prev: the
    previous x0 estimate, for a self-conditioned codebook head only."""
    if isinstance(denoiser, CodeHeadDenoiser):
        return denoiser(latents, timesteps, text_hidden, text_mask, x0_prev)
    return _pixart_call(denoiser, latents, timesteps, text_hidden, text_mask)


def _pixart_call(denoiser: PixArtTransformer2DModel, latents, timesteps, text_hidden, text_mask) -> torch.Tensor:
    return denoiser(
        latents,
        encoder_hidden_states=text_hidden,
        encoder_attention_mask=text_mask.to(latents.dtype),  # 1 = attend, 0 = padding
        timestep=timesteps,
        added_cond_kwargs={"resolution": None, "aspect_ratio": None},
        return_dict=False,
    )[0]
