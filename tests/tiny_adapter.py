"""A tiny real model adapter for the runner tests (not a mock: a seeded computation per image).

Each image starts from noise drawn from its own torch.Generator(seed) and a colour derived from
the prompt, then goes through `steps` rounds of a fixed 3x3 convolution and tanh, like a (very)
small denoiser. Weights are seeded from the "checkpoint" config so the fingerprint means something.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from musebench.models.checkpoints import resolve_checkpoint
from tiny_params import declare

SIZE = 32


class TinyAdapter:
    name = "tiny"
    version = "1"

    def __init__(self, weight_seed: int, size: int = SIZE):
        g = torch.Generator().manual_seed(weight_seed)
        self.kernel = torch.randn(3, 3, 3, 3, generator=g) * 0.2  # (out, in, kh, kw)
        self.weight_seed = weight_seed
        self.size = size

    @classmethod
    def from_spec(cls, checkpoint: str | None, device: str) -> "TinyAdapter":
        if checkpoint is None:
            return cls(0)
        config = json.loads((resolve_checkpoint(checkpoint) / "config.json").read_text())
        return cls(int(config["weight_seed"]), int(config.get("size", SIZE)))

    def declared(self):
        return declare(None)

    def defaults(self):
        return self.declared().defaults()

    def resolution(self) -> int:
        return self.size

    def fingerprint(self) -> str:
        return hashlib.sha256(f"tiny:{self.weight_seed}:{self.size}".encode()).hexdigest()

    def describe(self, params):
        return {"parameters": self.kernel.numel(), "resolution": self.size, "flops_per_image": 0.0}

    def _colour(self, prompt: str) -> torch.Tensor:
        digest = hashlib.sha256(prompt.encode()).digest()
        return torch.tensor([digest[0], digest[1], digest[2]], dtype=torch.float32).view(3, 1, 1) / 127.5 - 1.0

    def generate(self, prompts, seeds, params):
        noise = torch.stack([
            torch.randn(3, self.size, self.size, generator=torch.Generator().manual_seed(int(s))) for s in seeds
        ])  # (B, 3, H, W)
        x = noise + float(params["guidance"]) * torch.stack([self._colour(p) for p in prompts])
        for _ in range(int(params["steps"])):
            x = torch.tanh(x + torch.nn.functional.conv2d(x, self.kernel, padding=1))  # (B, 3, H, W)
        return ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
