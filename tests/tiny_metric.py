"""A tiny real metric for the runner tests: mean pixel intensity with a normal 95 % interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from musebench.metrics.base import EvalContext, MetricValue

CHANNELS = {"r": 0, "g": 1, "b": 2}


@dataclass(frozen=True)
class Options:
    channel: Literal["r", "g", "b", "all"] = "all"
    scale: float = 1.0

    def __post_init__(self):
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0, got {self.scale}")


class PixelMean:
    name = "pixel_mean"

    def __init__(self, options: Options):
        self.options = options

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        x = ctx.images.double() / 255.0  # (N, 3, H, W)
        if self.options.channel != "all":
            x = x[:, CHANNELS[self.options.channel]]
        per_image = x.flatten(1).mean(1) * self.options.scale  # (N,)
        n = per_image.numel()
        mean = float(per_image.mean())
        half = 1.96 * float(per_image.std()) / math.sqrt(n) if n > 1 else 0.0
        return [MetricValue(f"pixel_mean/{self.options.channel}", mean, n, True, (mean - half, mean + half))]


def build(options: Options) -> PixelMean:
    return PixelMean(options)
