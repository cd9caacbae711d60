"""Latent diffusion text-to-image: text encoder -> denoiser + diffusers sampler -> VQ decoder.

`LDMPipeline.generate` is what users and the musebench adapter call: one prompt and one seed per
image, one `torch.Generator` per image. The unconditional input for classifier-free guidance is
the encoding of the empty string, as in training (10 % empty captions) and in the Muse pipeline;
a negative prompt takes its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from reference_model.batch_invariance import make_pixart_batch_invariant
from reference_model.errors import ReferenceModelError
from reference_model.ldm.checkpoint import load_checkpoint
from reference_model.ldm.config import LDMConfig
from reference_model.ldm.denoiser import CodeHeadDenoiser
from reference_model.ldm.latents import decode_latents, encode_images
from reference_model.ldm.sampler import KnownLatents, SampleParams, sample_latents
from reference_model.text_encoder import FrozenTextEncoder
from reference_model.tokenizer import VQModel


class LDMPipeline:
    def __init__(self, config: LDMConfig, vq: VQModel, denoiser: torch.nn.Module, text_encoder) -> None:
        self.config = config
        self.vq = vq.eval()
        self.denoiser = denoiser.eval()
        # the timestep embedding and patch embedding run per row: an image never depends on its batch
        make_pixart_batch_invariant(denoiser.transformer if isinstance(denoiser, CodeHeadDenoiser) else denoiser)
        self.text_encoder = text_encoder  # callable: captions -> (hidden (B, L, D), mask (B, L))

    @classmethod
    def from_dir(cls, directory: str | Path, device: str = "cpu") -> LDMPipeline:
        config, vq, denoiser = load_checkpoint(Path(directory))
        return cls(config, vq.to(device), denoiser.to(device), FrozenTextEncoder(config.text_encoder, device))

    def latent_shape(self) -> tuple[int, int, int]:
        d = self.config.denoiser
        return (d.latent_channels, d.grid, d.grid)

    def _texts(self, prompts: Sequence[str], negative_prompt: str | None):
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise ReferenceModelError(f"prompt {i} is empty; give a non-empty text prompt")
        hidden, mask = self.text_encoder(list(prompts) + [negative_prompt or ""])  # (B+1, L, D)
        n = len(prompts)
        uncond = (hidden[n:].expand(n, -1, -1), mask[n:].expand(n, -1))
        return (hidden[:n], mask[:n]), uncond

    @torch.inference_mode()
    def generate_latents(self, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                         negative_prompt: str | None = None, known: KnownLatents | None = None) -> torch.Tensor:
        """One latent (C, g, g) per (prompt, seed): (B, C, g, g); `known`: inpainting (sampler.py)."""
        if len(seeds) != len(prompts):
            raise ReferenceModelError(f"got {len(seeds)} seeds for {len(prompts)} prompts; give one seed per prompt")
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        text, uncond = self._texts(prompts, negative_prompt)
        return sample_latents(self.denoiser, self.config.noise.scheduler_config(), params, text, uncond,
                              self.latent_shape(), generators, known)

    def encode_latents(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, 3, H, W) -> the latents the denoiser works in (B, C, g, g)."""
        with torch.inference_mode():
            return encode_images(self.vq, images, self.config.latent.scale)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return decode_latents(self.vq, latents, self.config.latent)

    def inpaint(self, images: torch.Tensor, region: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int],
                params: SampleParams, negative_prompt: str | None = None) -> torch.Tensor:
        """uint8 images (B, 3, H, W) with the latent positions where region (B, g, g) is True sampled anew
        under `prompts`, the rest kept (sampler.py's masked-latent method): uint8 (B, 3, H, W)."""
        g = self.config.denoiser.grid
        if region.shape != (images.shape[0], g, g):
            raise ReferenceModelError(f"inpaint: region shape {tuple(region.shape)} != (B, {g}, {g}) latent grid")
        keep = (~region.bool()).float()[:, None]  # (B, 1, g, g)
        known = KnownLatents(self.encode_latents(images), keep)
        return self.decode(self.generate_latents(prompts, seeds, params, negative_prompt, known))

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                 negative_prompt: str | None = None) -> torch.Tensor:
        """One image per (prompt, seed): uint8 (B, 3, H, W)."""
        return self.decode(self.generate_latents(prompts, seeds, params, negative_prompt))
