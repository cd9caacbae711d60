"""Muse's masked image-token transformer (Chang et al. 2023 §2.2, base model).

Every block is pre-norm self-attention -> cross-attention to the projected text hidden states ->
MLP. The network only maps (token ids with [MASK], text context) -> logits over the codebook; the
decoding loop lives in sampler.py (diffusers' model/scheduler split).

Cross-attention keys/values depend only on the text, so `text_context` computes them once and the
sampler reuses them at every decoding step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reference_model.config import TransformerConfig


@dataclass(frozen=True)
class TextContext:
    """Per-layer cross-attention keys/values of a batch of captions, computed once per call.

    `input_bias` (super_res.py) is added to every position's input embedding: the super-resolution
    stage's low-resolution tokens, upsampled onto its grid. None for the base model."""

    keys: tuple[torch.Tensor, ...]  # depth x (B, heads, L, head_dim)
    values: tuple[torch.Tensor, ...]  # depth x (B, heads, L, head_dim)
    mask: torch.Tensor  # (B, 1, 1, L) float, 0 = attend, -inf = padding (additive)
    input_bias: torch.Tensor | None = None  # (B, N, width) or None

    def rows(self, rows: torch.Tensor) -> TextContext:
        """The context of batch rows `rows` (A,) only."""
        bias = None if self.input_bias is None else self.input_bias[rows]
        return TextContext(tuple(k[rows] for k in self.keys), tuple(v[rows] for v in self.values), self.mask[rows], bias)


class SelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, N, width); mask (B, 1, 1, N) bool, True = attend (None: attend everywhere)."""
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)  # (B, heads, N, head_dim)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class CrossAttention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.q = nn.Linear(config.width, config.width)
        self.kv = nn.Linear(config.width, 2 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.dropout = config.dropout

    def keys_values(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, l, c = text.shape
        k, v = self.kv(text).view(b, l, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return k, v  # (B, heads, L, head_dim) each

    def forward(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q = self.q(x).view(b, n, self.heads, c // self.heads).transpose(1, 2)  # (B, heads, N, hd)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class MLP(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.width, config.mlp_ratio * config.width)
        self.proj = nn.Linear(config.mlp_ratio * config.width, config.width)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(config.width)
        self.self_attn = SelfAttention(config)
        self.norm_cross = nn.LayerNorm(config.width)
        self.cross_attn = CrossAttention(config)
        self.norm_mlp = nn.LayerNorm(config.width)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.norm_self(x))
        x = x + self.cross_attn(self.norm_cross(x), k, v, mask)
        return x + self.mlp(self.norm_mlp(x))


class TextBlock(nn.Module):
    """A block of the optional text refiner: pre-norm self-attention over the caption -> MLP.

    Output projections start at zero, so a refiner added to a trained model leaves it unchanged
    until it learns something (the ControlNet / adapter zero-init trick).
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(config.width)
        self.self_attn = SelfAttention(config)
        self.norm_mlp = nn.LayerNorm(config.width)
        self.mlp = MLP(config)

    def zero_outputs(self) -> None:
        nn.init.zeros_(self.self_attn.proj.weight)
        nn.init.zeros_(self.mlp.proj.weight)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.norm_self(x), mask)
        return x + self.mlp(self.norm_mlp(x))


class MaskedTransformer(nn.Module):
    """(ids (B, N) with [MASK] = vocab_size, TextContext) -> logits (B, N, vocab_size)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.token_emb = nn.Embedding(config.vocab_size + 1, config.width)  # +1: the [MASK] token
        # Learned 2-D position embedding, factorised into row + column tables.
        self.row_emb = nn.Parameter(torch.zeros(config.grid, 1, config.width))
        self.col_emb = nn.Parameter(torch.zeros(1, config.grid, config.width))
        self.text_proj = nn.Linear(config.text_dim, config.width)  # Muse: project T5 states
        self.text_norm = nn.LayerNorm(config.width)
        if config.text_layers:  # optional trainable refiner (TransformerConfig.text_layers)
            self.text_pos = nn.Parameter(torch.zeros(1, config.text_length, config.width))
            self.text_blocks = nn.ModuleList(TextBlock(config) for _ in range(config.text_layers))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm_out = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size)  # logits over the codebook only
        self.apply(self._init)
        nn.init.normal_(self.row_emb, std=0.02)
        nn.init.normal_(self.col_emb, std=0.02)
        if config.text_layers:  # text_pos stays zero: the refiner starts as the identity
            for block in self.text_blocks:
                block.zero_outputs()

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)  # GPT-2 / MaskGIT BERT init
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def text_context(self, hidden: torch.Tensor, mask: torch.Tensor) -> TextContext:
        """hidden (B, L, text_dim), mask (B, L) bool -> per-layer K/V, computed once per call."""
        return self.context_from_states(self.text_states(hidden, mask), mask)

    def text_states(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden (B, L, text_dim), mask (B, L) bool -> the projected (and refined) states (B, L, width)."""
        text = self.text_norm(self.text_proj(hidden))  # (B, L, width)
        if self.config.text_layers:
            text = text + self.text_pos[:, : text.shape[1]]
            for block in self.text_blocks:
                text = block(text, mask[:, None, None, :])  # (B, L, width)
        return text

    def context_from_states(self, text: torch.Tensor, mask: torch.Tensor) -> TextContext:
        """states (B, L, width), mask (B, L) bool -> every block's cross-attention K/V over them."""
        kvs = [block.cross_attn.keys_values(text) for block in self.blocks]
        # Additive float mask: the same attention as the bool mask (bit for bit), but SDPA's CPU
        # kernel converts a bool mask to this on every call (~15 % of a cross-attention call).
        additive = torch.zeros(mask.shape, dtype=text.dtype, device=text.device).masked_fill_(~mask, float("-inf"))
        return TextContext(
            keys=tuple(k for k, _ in kvs),
            values=tuple(v for _, v in kvs),
            mask=additive[:, None, None, :],  # (B, 1, 1, L)
        )

    def forward(self, ids: torch.Tensor, context: TextContext) -> torch.Tensor:
        b, n = ids.shape
        pos = (self.row_emb + self.col_emb).reshape(1, n, -1)  # (1, N, width), row-major
        x = self.token_emb(ids) + pos  # (B, N, width)
        if context.input_bias is not None:
            x = x + context.input_bias
        for block, k, v in zip(self.blocks, context.keys, context.values):
            x = block(x, k, v, context.mask)
        return self.head(self.norm_out(x))  # (B, N, vocab_size)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def with_text_refiner(model: MaskedTransformer, layers: int, text_length: int) -> MaskedTransformer:
    """`model` with a zero-initialised text refiner of `layers` blocks added: the same function until
    trained (the refiner's positions and output projections start at zero)."""
    from dataclasses import replace

    if model.config.text_layers:
        raise ValueError(f"the transformer already has a text refiner ({model.config.text_layers} layers)")
    refined = MaskedTransformer(replace(model.config, text_layers=layers, text_length=text_length))
    missing, unexpected = refined.load_state_dict(model.state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("text_pos", "text_blocks.")) for k in missing), (missing, unexpected)
    return refined.train(model.training)
