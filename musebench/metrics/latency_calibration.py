"""Calibration workloads for latency ratios: what a model's time is divided by, timed in the same run.

Why not a matmul alone: the ratio of a small model's sampling to one large matmul depends on the
CPU and the thread count, because the two spend their time differently (the matmul is pure
BLAS throughput; a 128-wide transformer at batch 1 is dozens of small kernels with Python and
dispatch overhead between them). Measured on two machines of the same kind (issue 21): the
unchanged muse-shapes at 12 steps had ratio 5.25 to a 1024^2 matmul on one, 7.42 on the other,
and 8.2-12.6 at 2 threads. A gate on that ratio fails on the unchanged model.

`transformer` (the default) times a *fixed reference network of the same kind*: a Muse-shaped
masked-transformer decode built only from torch.nn modules (nothing of reference_model/, so a
change to our model code never moves the denominator): a text encoder pass, `steps` decoder
passes over a (2, tokens) id grid with cross-attention to the text (the guided batch of 2), the
softmax / argmax / confidence ranking of each MaskGIT step, and a small convolutional decoder.
Its time moves with the CPU and the thread count as the model's does, so the ratio travels:
`python benchmarks/latency_calibration.py` measures it at 1 and 2 threads (results file there).

`matmul` keeps the earlier C x C float32 matmul (2 C^3 FLOPs): a FLOP/s yardstick, still used
for the `fraction_of_calibration` figure and for GPUs, where a transformer this small measures
launch overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TransformerWorkload:
    """The shapes of the reference decode; the defaults match muse-shapes (config.json)."""

    width: int = 128  # decoder model dimension
    depth: int = 6  # decoder blocks (self-attention, cross-attention, MLP)
    heads: int = 4
    tokens: int = 64  # image tokens (8 x 8 grid)
    vocab: int = 512  # codebook size; the logits' last dimension
    text_tokens: int = 16
    text_width: int = 384  # text encoder width (MiniLM-L6-sized)
    text_depth: int = 6
    steps: int = 12  # decoding iterations, fixed: the model's own `steps` never changes this
    version: int = 1  # bump when the workload changes: rows with another version are not compared

    def label(self) -> str:
        return (f"reference transformer v{self.version} (torch.nn; width {self.width}, depth {self.depth}, "
                f"{self.tokens} tokens, {self.steps} steps, batch 2)")


def matmul_workload(size: int, device: str) -> tuple[Callable[[], None], float, str]:
    """A deterministic float32 (C, C) @ (C, C) matmul of 2 C^3 FLOPs."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=g).to(device)  # (C, C)
    b = torch.randn(size, size, generator=g).to(device)

    def run() -> None:
        torch.mm(a, b)

    return run, 2.0 * size**3, f"matmul {size}^2 float32"


class _ReferenceDecode(torch.nn.Module):
    """Muse-shaped decode from torch.nn parts, weights from a fixed seed (never trained)."""

    def __init__(self, w: TransformerWorkload) -> None:
        super().__init__()
        text_layer = torch.nn.TransformerEncoderLayer(w.text_width, 6, 4 * w.text_width, dropout=0.0, batch_first=True)
        self.text = torch.nn.TransformerEncoder(text_layer, w.text_depth, enable_nested_tensor=False)
        self.project = torch.nn.Linear(w.text_width, w.width)
        layer = torch.nn.TransformerDecoderLayer(w.width, w.heads, 4 * w.width, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = torch.nn.TransformerDecoder(layer, w.depth)
        self.embed = torch.nn.Embedding(w.vocab + 1, w.width)  # + [MASK]
        self.logits = torch.nn.Linear(w.width, w.vocab)
        self.pixels = torch.nn.Sequential(  # (1, 32, 8, 8) -> (1, 3, 32, 32), a VQ decoder's shape
            torch.nn.Conv2d(32, 128, 3, padding=1), torch.nn.ConvTranspose2d(128, 64, 4, 2, 1),
            torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ConvTranspose2d(64, 32, 4, 2, 1),
            torch.nn.Conv2d(32, 3, 3, padding=1))
        self.w = w

    def forward(self, text: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        w = self.w
        memory = self.project(self.text(text))  # (2, text_tokens, width)
        ids = torch.full((2, w.tokens), w.vocab, device=text.device)  # all [MASK]
        for step in range(w.steps):
            probs = torch.softmax(self.logits(self.decoder(self.embed(ids), memory)), dim=-1)  # (2, tokens, vocab)
            sampled = probs.argmax(dim=-1)  # (2, tokens)
            confidence = torch.gather(probs, -1, sampled[..., None]).squeeze(-1)
            rank = confidence.argsort(dim=1).argsort(dim=1)  # 0 = least confident
            still_masked = w.tokens - (step + 1) * w.tokens // w.steps
            ids = torch.where(rank < still_masked, torch.full_like(sampled, w.vocab), sampled)
        return self.pixels(codes)


def transformer_workload(device: str, workload: TransformerWorkload = TransformerWorkload()) -> tuple[Callable[[], None], float | None, str]:
    """The reference decode as a no-argument callable (inference mode, fixed inputs)."""
    g = torch.Generator().manual_seed(0)
    with torch.random.fork_rng(devices=[]):  # module init draws from the global RNG: keep the caller's
        torch.manual_seed(0)
        net = _ReferenceDecode(workload).eval().to(device)
    text = torch.randn(2, workload.text_tokens, workload.text_width, generator=g).to(device)
    codes = torch.randn(1, 32, 8, 8, generator=g).to(device)

    def run() -> None:
        with torch.inference_mode():
            net(text, codes)

    return run, None, workload.label()


def calibration_workload(name: str, size: int, device: str) -> tuple[Callable[[], None], float | None, str]:
    """(callable, FLOPs per call or None, label recorded in every latency row's `calibration`)."""
    if name == "matmul":
        return matmul_workload(size, device)
    if name == "transformer":
        return transformer_workload(device)
    raise ValueError(f"unknown calibration {name!r}")  # Options validation names the choices first
