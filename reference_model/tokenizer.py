"""VQ tokenizer: a convolutional VQGAN-style autoencoder without attention (Esser et al. 2021).

Images (B, 3, H, W) in [-1, 1] <-> token ids (B, g, g), g = H / f, f = 2 ** (stages - 1).

Codebook usage is kept high by two mechanisms, both cheap on a CPU:
- l2-normalised, low-dimensional codes (ViT-VQGAN, Yu et al. 2022 §3.2): lookup by cosine
  similarity, so no code can be stranded far away from the encoder outputs by its norm;
- dead-code restart (Dhariwal et al. 2020 "Jukebox" §3.2 / Zeghidour et al. 2021 "SoundStream"):
  a code unused for a while is re-initialised to a random encoder output of the current batch.
We chose restart over EMA updates because EMA still leaves codes dead when the data occupy a small
part of the sphere (a shapes world is mostly flat background); restart revives them directly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reference_model.batch_invariance import per_row
from reference_model.config import VQConfig, norm_groups


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(norm_groups(channels), channels, eps=1e-6)


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> conv, twice, plus a skip (VQGAN's ResnetBlock without time embedding)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm1 = _norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = _norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Encoder(nn.Module):
    def __init__(self, config: VQConfig) -> None:
        super().__init__()
        ch = config.channels
        self.conv_in = nn.Conv2d(config.in_channels, ch[0], 3, padding=1)
        layers: list[nn.Module] = []
        for i, c in enumerate(ch):
            c_prev = ch[max(i - 1, 0)]
            if i > 0:  # stride-2 conv halves the side (VQGAN Downsample)
                layers.append(nn.Conv2d(c_prev, c, 4, stride=2, padding=1))
            layers.extend(ResBlock(c, c) for _ in range(config.res_blocks[i]))
        self.stages = nn.Sequential(*layers)
        self.norm_out = _norm(ch[-1])
        self.conv_out = nn.Conv2d(ch[-1], config.code_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.conv_in(x))  # (B, C, g, g)
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, code_dim, g, g)


class Decoder(nn.Module):
    def __init__(self, config: VQConfig) -> None:
        super().__init__()
        ch = tuple(reversed(config.channels))
        blocks = tuple(reversed(config.res_blocks))
        self.conv_in = nn.Conv2d(config.code_dim, ch[0], 3, padding=1)
        layers: list[nn.Module] = []
        for i, c in enumerate(ch):
            c_prev = ch[max(i - 1, 0)]
            if i > 0:  # nearest upsample + conv (VQGAN Upsample), avoids checkerboards
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                layers.append(nn.Conv2d(c_prev, c, 3, padding=1))
            layers.extend(ResBlock(c, c) for _ in range(blocks[i]))
        self.stages = nn.Sequential(*layers)
        self.norm_out = _norm(ch[-1])
        self.conv_out = nn.Conv2d(ch[-1], config.in_channels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.conv_in(z))  # (B, C, H, W)
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, 3, H, W), unbounded


class VectorQuantizer(nn.Module):
    """Nearest l2-normalised code by cosine similarity, straight-through gradients."""

    def __init__(self, config: VQConfig) -> None:
        super().__init__()
        self.beta = config.beta
        self.codebook = nn.Parameter(torch.randn(config.codebook_size, config.code_dim))

    def codes(self) -> torch.Tensor:
        return F.normalize(self.codebook, dim=-1)  # (K, D)

    def lookup(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, D, g, g) -> ids (B, g, g) of the nearest normalised code."""
        z = F.normalize(z, dim=1).permute(0, 2, 3, 1)  # (B, g, g, D)
        return (z @ self.codes().T).argmax(dim=-1)  # (B, g, g): max cosine = min l2 on the sphere

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, g, g) -> quantised z (B, D, g, g)."""
        return self.codes()[ids].permute(0, 3, 1, 2)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """z (B, D, g, g) -> (z_q straight-through, ids (B, g, g), codebook + commitment loss)."""
        ids = self.lookup(z)
        z_n = F.normalize(z, dim=1)
        z_q = self.embed(ids)
        # van den Oord et al. 2017 eq. 3: move codes to encodings, commit encodings to codes.
        loss = F.mse_loss(z_q, z_n.detach()) + self.beta * F.mse_loss(z_n, z_q.detach())
        z_st = z_n + (z_q - z_n).detach()  # straight-through estimator
        return z_st, ids, loss

    @torch.no_grad()
    def restart_dead(self, dead: torch.Tensor, z: torch.Tensor, generator: torch.Generator) -> int:
        """Re-initialise codes flagged `dead` (K,) bool to random encodings from z (B, D, g, g)."""
        n_dead = int(dead.sum())
        if n_dead == 0:
            return 0
        flat = F.normalize(z, dim=1).permute(0, 2, 3, 1).reshape(-1, z.shape[1])  # (B*g*g, D)
        pick = torch.randint(0, flat.shape[0], (n_dead,), generator=generator)
        self.codebook.data[dead] = flat[pick]
        return n_dead


class VQModel(nn.Module):
    def __init__(self, config: VQConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.quantizer = VectorQuantizer(config)
        self.decoder = Decoder(config)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, 3, H, W) in [-1, 1] -> (reconstruction, ids, vq loss, pre-quantisation z)."""
        z = self.encoder(x)
        z_q, ids, vq_loss = self.quantizer(z)
        return self.decoder(z_q), ids, vq_loss, z

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H, W) in [-1, 1] -> ids (B, g, g)."""
        return self.quantizer.lookup(self.encoder(x))

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (B, g, g) -> images (B, 3, H, W) in [-1, 1] (clamped), one image at a time."""
        return self.decode_codes(self.quantizer.embed(ids))

    @torch.no_grad()
    def decode_codes(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, code_dim, g, g) -> images (B, 3, H, W) in [-1, 1] (clamped), one image at a time:
        the convolutions pick their algorithm by batch size, so a batched decode would round an
        image differently in different batches (reference_model/batch_invariance.py)."""
        return per_row(self.decoder, z).clamp(-1, 1)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float in [-1, 1]."""
    return images.float() / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] (B, 3, H, W) -> uint8, rounded."""
    return ((x.clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
