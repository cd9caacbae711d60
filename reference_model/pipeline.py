"""Muse text-to-image: text encoder -> masked transformer + sampler -> VQ decoder.

`MusePipeline.generate` is what users and the musebench adapter call: one prompt and one seed per
image, one `torch.Generator` per image (so an image never depends on its batch). `inpaint` starts
the same decoding from known tokens with a masked region (Muse §2.8 zero-shot editing);
`inpaint_ids` and `mask_free_ids` are the token-level editing calls (editing.py).

Micro-batches: on a CPU the decoding runs `images_per_forward` images at a time (cond + uncond rows
in one forward each), because activations of a whole batch of 64 (128 rows x 64 tokens x 512 MLP
features = 16 MiB per tensor) spill out of the caches and every op slows down; see
benchmarks/muse_generation.py for the measured speed per micro-batch size. Images are independent
(one generator each, per-image shapes, every GEMM over a multiple of 16 rows, the VQ decoder run one
image at a time: reference_model/batch_invariance.py), so neither the batch nor the micro-batch
size changes an image's bytes (tests/test_batch_invariance.py).

Observing: `generate`, `inpaint` and `decode_ids` take an optional `trace` (decode_trace.DecodeTrace)
that records each token's confidence and step, in prompt order across micro-batches;
`generate_trajectory` decodes the image after every step k of K (issue 25).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from reference_model.checkpoint import load_checkpoint
from reference_model.config import MuseConfig
from reference_model.decode_trace import DecodeTrace
from reference_model.editing import MaskFreeOptions, mask_free_rounds
from reference_model.errors import ReferenceModelError
from reference_model.sampler import SampleParams, decode
from reference_model.text_encoder import FrozenTextEncoder
from reference_model.tokenizer import VQModel, to_uint8, to_unit
from reference_model.transformer import MaskedTransformer, TextContext


CPU_IMAGES_PER_FORWARD = 16  # micro-batch on a CPU (benchmarks/results/muse_generation.json)


class MusePipeline:
    def __init__(self, config: MuseConfig, vq: VQModel, transformer: MaskedTransformer,
                 text_encoder: FrozenTextEncoder, images_per_forward: int | None = None) -> None:
        """images_per_forward: decode this many images at a time (None: the CPU default when the
        transformer is on a CPU, the whole batch elsewhere); it changes speed, never an image."""
        if images_per_forward is not None and images_per_forward < 1:
            raise ReferenceModelError(f"images_per_forward={images_per_forward} must be >= 1 (or None)")
        self.config = config
        self.vq = vq.eval()
        self.transformer = transformer.eval()
        self.text_encoder = text_encoder
        on_cpu = next(transformer.parameters()).device.type == "cpu"
        self.images_per_forward = images_per_forward or (CPU_IMAGES_PER_FORWARD if on_cpu else None)

    @classmethod
    def from_dir(cls, directory: str | Path, device: str = "cpu") -> MusePipeline:
        config, vq, transformer = load_checkpoint(Path(directory))
        return cls(config, vq.to(device), transformer.to(device), FrozenTextEncoder(config.text_encoder, device))

    @staticmethod
    def _check_prompts(prompts: Sequence[str]) -> None:
        for i, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                raise ReferenceModelError(f"prompt {i} is empty; give a non-empty text prompt")

    def _context(self, prompts: Sequence[str], negative_prompt: str | None, guided: bool) -> TextContext:
        """Text K/V for [cond] or [cond; uncond] rows, computed once for the whole decoding."""
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
                   negative_prompt: str | None = None, trace: DecodeTrace | None = None) -> torch.Tensor:
        """ids (B, N) with [MASK] where unknown -> completed ids (B, N), in micro-batches; `trace`
        (opt-in) gets one record per micro-batch, in order."""
        done = [decode(self.transformer, context, ids[part], params, generators, trace)
                for part, context, generators in self._micro_batches(prompts, seeds, negative_prompt, params)]
        return torch.cat(done) if done else ids.clone()

    def _micro_batches(self, prompts: Sequence[str], seeds: Sequence[int], negative_prompt: str | None,
                       params: SampleParams) -> Iterator[tuple[slice, TextContext, list[torch.Generator]]]:
        """(images' slice, their text context, their generators) per micro-batch of images_per_forward."""
        self._check_prompts(prompts)
        generators = self._generators(seeds, len(prompts))
        size = self.images_per_forward or max(1, len(prompts))
        for i in range(0, len(prompts), size):
            context = self._context(prompts[i : i + size], negative_prompt, guided=params.guidance != 0)
            yield slice(i, i + size), context, generators[i : i + size]

    def ids_to_images(self, ids: torch.Tensor) -> torch.Tensor:
        g = self.config.vq.grid
        with torch.inference_mode():
            return to_uint8(self.vq.decode(ids.view(-1, g, g)))  # (B, 3, H, W) uint8

    def all_masked(self, n: int) -> torch.Tensor:
        n_tokens = self.config.transformer.grid ** 2
        return torch.full((n, n_tokens), self.config.transformer.mask_id, dtype=torch.long)  # (B, N)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                 negative_prompt: str | None = None, trace: DecodeTrace | None = None) -> torch.Tensor:
        """One image per (prompt, seed): uint8 (B, 3, H, W); `trace` (opt-in) records how it was decoded."""
        return self.ids_to_images(self.decode_ids(self.all_masked(len(prompts)), prompts, seeds, params,
                                                  negative_prompt, trace))

    def generate_trajectory(self, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                            negative_prompt: str | None = None) -> torch.Tensor:
        """uint8 (B, K, 3, H, W): image i as it would be if decoding stopped after step k (k = 0..K-1),
        the still-masked tokens filled by that step's argmax; [:, K-1] is generate()'s output exactly."""
        trace = DecodeTrace(trajectory=True)
        self.decode_ids(self.all_masked(len(prompts)), prompts, seeds, params, negative_prompt, trace)
        return self.trajectory_images(trace)

    def trajectory_images(self, trace: DecodeTrace) -> torch.Tensor:
        """uint8 (B, K, 3, H, W): a DecodeTrace(trajectory=True)'s ids after every step, decoded the
        way ids_to_images decodes the final ids (one image at a time: the same bytes in any batch)."""
        ids = trace.trajectory_ids()  # (B, K, N)
        b, k, n = ids.shape
        images = self.ids_to_images(ids.reshape(b * k, n))  # (B*K, 3, H, W)
        return images.view(b, k, *images.shape[1:])  # (B, K, 3, H, W)

    def inpaint(self, images: torch.Tensor, region: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int],
                params: SampleParams, negative_prompt: str | None = None,
                trace: DecodeTrace | None = None) -> torch.Tensor:
        """Regenerate the tokens where region (B, g, g) is True; keep the rest of images (B, 3, H, W) uint8.

        Outpainting is the same call with the region outside the part to keep; `trace` marks the kept
        tokens as given (decode_trace.GIVEN_STEP).
        """
        known = self.encode_ids(images)  # (B, N)
        return self.ids_to_images(self.inpaint_ids(known, region, prompts, seeds, params, negative_prompt, trace))

    def encode_ids(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, 3, H, W) -> the VQ tokenizer's ids (B, N)."""
        with torch.inference_mode():
            return self.vq.encode(to_unit(images)).view(images.shape[0], -1)  # (B, N)

    def inpaint_ids(self, ids: torch.Tensor, region: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int],
                    params: SampleParams, negative_prompt: str | None = None,
                    trace: DecodeTrace | None = None) -> torch.Tensor:
        """ids (B, N) complete -> (B, N): the tokens where region (B, g, g) is True decoded anew under
        `prompts`, every other token kept (an empty region returns ids unchanged; Muse §2.8)."""
        g = self.config.vq.grid
        if region.shape != (ids.shape[0], g, g):
            raise ReferenceModelError(f"inpaint: region shape {tuple(region.shape)} != (B, {g}, {g}) token grid")
        masked = torch.where(region.reshape(ids.shape[0], -1), self.config.transformer.mask_id, ids)
        return self.decode_ids(masked, prompts, seeds, params, negative_prompt, trace)

    def mask_free_ids(self, ids: torch.Tensor, prompts: Sequence[str], seeds: Sequence[int], params: SampleParams,
                      options: MaskFreeOptions, negative_prompt: str | None = None) -> torch.Tensor:
        """ids (B, N) complete -> (B, rounds, N): mask-free editing toward `prompts` (editing.py), the
        ids after every round, in micro-batches like decode_ids."""
        return torch.cat([mask_free_rounds(self.transformer, context, ids[part], params, options, generators)
                          for part, context, generators in self._micro_batches(prompts, seeds, negative_prompt, params)])
