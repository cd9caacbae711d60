"""FLOPs per image of a sampler run, measured with `torch.utils.flop_counter.FlopCounterMode`.

FlopCounterMode counts the matmul, convolution and attention FLOPs of the ops that actually run
(the convention of the scaling-law and MFU literature: elementwise ops are not counted). We run
one image through the whole sampler (text encoder, every denoiser step, decoder) and count the
denoiser's forward calls with a hook, so schedulers that call the network more than once per step
are measured as they run, and report

    total = denoiser FLOPs per call x calls + text encoder + decoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FlopReport:
    total: int  # FLOPs for one image, everything included
    denoiser_per_call: int  # FLOPs of one denoiser forward call (both CFG halves when batched)
    denoiser_calls: int  # denoiser forward calls for one image


def count_pipeline_flops(run_one_image: Callable[[], object], denoiser: torch.nn.Module | None) -> FlopReport:
    """Run `run_one_image()` (one image, batch 1) under FlopCounterMode and split out the denoiser."""
    from torch.utils.flop_counter import FlopCounterMode  # 0.3 s of imports: only when counting

    calls: list[int] = []
    per_call: list[int] = []

    def before(_module, _args, _kwargs=None) -> None:
        calls.append(counter.get_total_flops())

    def after(_module, _args, _kwargs_or_out, _out=None) -> None:
        per_call.append(counter.get_total_flops() - calls[-1])

    handles = []
    if denoiser is not None:
        handles.append(denoiser.register_forward_pre_hook(before, with_kwargs=True))
        handles.append(denoiser.register_forward_hook(after, with_kwargs=True))
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            run_one_image()
    finally:
        for handle in handles:
            handle.remove()
    mean_call = round(sum(per_call) / len(per_call)) if per_call else 0
    return FlopReport(total=counter.get_total_flops(), denoiser_per_call=mean_call, denoiser_calls=len(per_call))
