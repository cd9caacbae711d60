"""Muse's cascade (Chang et al. 2023 §2.4): the base model's tokens -> the super-resolution stage's
tokens -> its tokenizer's decoder, one prompt and one seed per image.

`upsample_ids` is the second stage alone (low-res ids in, high-res ids out), so a caller can time
each stage and feed it ground-truth tokens; `generate` runs both. The second stage draws from its
own generator per image, seeded with `sr_seed(seed)`, so an image depends on (prompt, seed, both
stages' parameters) only, never on its batch (the sampler's batch independence, sampler.py).

`bicubic` is the baseline the stage has to beat: the base model's image upsampled 2x by bicubic
interpolation (torch's, antialias off: upsampling), rounded to uint8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from reference_model.config import SuperResConfig
from reference_model.errors import ReferenceModelError
from reference_model.pipeline import CPU_IMAGES_PER_FORWARD, MusePipeline
from reference_model.sampler import SampleParams, decode
from reference_model.sr_checkpoint import load_sr_checkpoint
from reference_model.super_res import SuperResTransformer
from reference_model.tokenizer import VQModel, to_uint8

SR_SEED_OFFSET = 0x5E5  # the second stage's generator of an image: seed + this (a stream of its own)


def sr_seed(seed: int) -> int:
    return int(seed) + SR_SEED_OFFSET


def bicubic(images: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> uint8 (B, 3, factor H, factor W), bicubic, clamped and rounded."""
    x = F.interpolate(images.float(), scale_factor=factor, mode="bicubic", align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)


class CascadePipeline:
    def __init__(self, base: MusePipeline, config: SuperResConfig, vq: VQModel, sr: SuperResTransformer,
                 images_per_forward: int | None = None) -> None:
        if base.config.vq.codebook_size != config.lowres.vocab_size or base.config.vq.grid != config.lowres.grid:
            raise ReferenceModelError(
                f"the super-resolution stage takes {config.lowres.grid}x{config.lowres.grid} tokens of a "
                f"{config.lowres.vocab_size}-code tokenizer, the base model makes {base.config.vq.grid}x"
                f"{base.config.vq.grid} of {base.config.vq.codebook_size}; pair it with the base it was trained on"
            )
        self.base, self.config, self.vq, self.sr = base, config, vq.eval(), sr.eval()
        on_cpu = next(sr.parameters()).device.type == "cpu"
        self.images_per_forward = images_per_forward or (CPU_IMAGES_PER_FORWARD if on_cpu else None)

    @classmethod
    def from_dirs(cls, base_dir: str | Path, sr_dir: str | Path, device: str = "cpu") -> CascadePipeline:
        config, vq, sr = load_sr_checkpoint(Path(sr_dir))
        return cls(MusePipeline.from_dir(base_dir, device), config, vq.to(device), sr.to(device))

    @torch.inference_mode()
    def upsample_ids(self, lowres: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int],
                     params: SampleParams) -> torch.Tensor:
        """lowres (B, n) base ids -> (B, N) high-res ids, decoded from all-[MASK] under text + lowres."""
        if lowres.shape != (len(prompts), self.config.lowres.grid**2):
            raise ReferenceModelError(f"upsample_ids: lowres shape {tuple(lowres.shape)} != "
                                      f"({len(prompts)}, {self.config.lowres.grid ** 2})")
        if len(seeds) != len(prompts):
            raise ReferenceModelError(f"got {len(seeds)} seeds for {len(prompts)} prompts; give one seed per prompt")
        size = self.images_per_forward or max(1, len(prompts))
        n_high, mask_id = self.config.transformer.grid**2, self.config.transformer.mask_id
        done = []
        for i in range(0, len(prompts), size):
            texts, low = list(prompts[i : i + size]), lowres[i : i + size]
            guided = params.guidance != 0
            if guided:  # unconditional = "" with the same low-res tokens (Muse §2.7)
                texts, low = texts + [""] * len(texts), torch.cat([low, low])
            hidden, mask = self.base.text_encoder(texts)  # (B or 2B, L, D)
            context = self.sr.sr_context(hidden, mask, low)
            generators = [torch.Generator().manual_seed(sr_seed(s)) for s in seeds[i : i + size]]
            ids = torch.full((len(generators), n_high), mask_id, dtype=torch.long)
            done.append(decode(self.sr, context, ids, params, generators))
        return torch.cat(done) if done else torch.empty(0, n_high, dtype=torch.long)

    def ids_to_images(self, ids: torch.Tensor) -> torch.Tensor:
        """High-res ids (B, N) -> uint8 (B, 3, 2H, 2W), decoded one image at a time like the base's."""
        g = self.config.vq.grid
        with torch.inference_mode():
            return to_uint8(self.vq.decode(ids.view(-1, g, g)))

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], base_params: SampleParams,
                 sr_params: SampleParams, upsample: str = "transformer", negative_prompt: str | None = None) -> torch.Tensor:
        """uint8 (B, 3, 2H, 2W): base tokens, then the super-resolution stage (or bicubic upsampling);
        a negative prompt steers the base model's guidance only."""
        lowres = self.base.decode_ids(self.base.all_masked(len(prompts)), prompts, seeds, base_params, negative_prompt)
        if upsample == "bicubic":
            return bicubic(self.base.ids_to_images(lowres))
        if upsample != "transformer":
            raise ReferenceModelError(f"upsample={upsample!r}; use 'transformer' or 'bicubic'")
        return self.ids_to_images(self.upsample_ids(lowres, prompts, seeds, sr_params))
