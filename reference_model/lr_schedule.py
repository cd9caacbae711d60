"""Learning-rate schedule shared by the trainers: linear warm-up then cosine decay (Muse §3)."""

from __future__ import annotations

import math


def warmup_cosine(step: int, total: int, warmup: int, peak: float, final_fraction: float = 0.1) -> float:
    """Learning rate at `step` (0-based): linear 0 -> peak over `warmup`, cosine -> final_fraction * peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = final_fraction * peak
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
