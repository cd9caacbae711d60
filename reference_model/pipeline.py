"""Muse text-to-image: text encoder -> masked transformer + sampler -> VQ decoder.

`MusePipeline.generate` is what users and the musebench adapter call: one prompt and one seed per
image, one `torch.Generator` per image (so an image never depends on its batch). `inpaint` starts
the same decoding from known tokens with a masked region (Muse §2.8 zero-shot editing).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from reference_model.checkpoint import load_checkpoint
from reference_model.config import MuseConfig
from reference_model.errors import ReferenceModelError
from reference_model.sampler import SampleParams, decode
from reference_model.text_encoder import FrozenTextEncoder
from reference_model.tokenizer import VQModel, to_uint8, to_unit
from reference_model.transformer import MaskedTransformer, TextContext


class MusePipeline:
    def __init__(self, config: MuseConfig, vq: VQModel, transformer: MaskedTransformer,
                 text_encoder: FrozenTextEncoder) -> None:
        self.config = config
        self.vq = vq.eval()
        self.transformer = transformer.eval()
        self.text_encoder = text_encoder

    @classmethod
    def from_dir(cls, directory: str | Path, device: str = "cpu") -> MusePipeline:
        config, vq, transformer = load_checkpoint(Path(directory))
        return cls(config, vq.to(device), transformer.to(device), FrozenTextEncoder(config.text_encoder, device))

    def _context(self, prompts: Sequence[str], negative_prompt: str | None, guided: bool) -> TextContext:
        """Text K/V for [cond] or [cond; uncond] rows, computed once for the whole decoding."""
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise ReferenceModelError(f"prompt {i} is empty; give a non-empty text prompt")
        texts = list(prompts)
        if guided:  # unconditional = "" (Muse §2.7); a negative prompt takes its place
            texts += [negative_prompt if negative_prompt is not None else ""] * len(prompts)
        hidden, mask = self.text_encoder(texts)  # (B or 2B, L, D), (B or 2B, L)
        return self.transformer.text_context(hidden, mask)

    def _generators(self, seeds: Sequence[int], n: int) -> list[torch.Generator]:
        if len(seeds) != n:
            raise ReferenceModelError(f"got {len(seeds)} seeds for {n} prompts; give one seed per prompt")
        return [torch.Generator().manual_seed(int(s)) for s in seeds]

    @torch.inference_mode()
    def decode_ids(self, ids: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                   negative_prompt: str | None = None) -> torch.Tensor:
        """ids (B, N) with [MASK] where unknown -> completed ids (B, N)."""
        generators = self._generators(seeds, len(prompts))
        context = self._context(prompts, negative_prompt, guided=params.guidance != 0)
        return decode(self.transformer, context, ids, params, generators)

    def ids_to_images(self, ids: torch.Tensor) -> torch.Tensor:
        g = self.config.vq.grid
        with torch.inference_mode():
            return to_uint8(self.vq.decode(ids.view(-1, g, g)))  # (B, 3, H, W) uint8

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                 negative_prompt: str | None = None) -> torch.Tensor:
        """One image per (prompt, seed): uint8 (B, 3, H, W)."""
        n_tokens = self.config.transformer.grid ** 2
        ids = torch.full((len(prompts), n_tokens), self.config.transformer.mask_id, dtype=torch.long)
        return self.ids_to_images(self.decode_ids(ids, prompts, seeds, params, negative_prompt))

    def inpaint(self, images: torch.Tensor, region: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int],
                params: SampleParams, negative_prompt: str | None = None) -> torch.Tensor:
        """Regenerate the tokens where region (B, g, g) is True; keep the rest of images (B, 3, H, W) uint8.

        Outpainting is the same call with the region outside the part to keep.
        """
        g = self.config.vq.grid
        if region.shape != (images.shape[0], g, g):
            raise ReferenceModelError(f"inpaint: region shape {tuple(region.shape)} != (B, {g}, {g}) token grid")
        with torch.inference_mode():
            known = self.vq.encode(to_unit(images)).view(images.shape[0], -1)  # (B, N)
        ids = torch.where(region.reshape(images.shape[0], -1), self.config.transformer.mask_id, known)
        return self.ids_to_images(self.decode_ids(ids, prompts, seeds, params, negative_prompt))
