"""Latency with a calibration workload measured in the same run, so CI can gate on a ratio.

Protocol (MLPerf-inference style single-stream / offline, simplified):
  - warm-up calls first (lazy init, allocator, cuDNN autotune are not timed);
  - synchronised timing: torch.cuda.synchronize + CUDA events on a GPU, perf_counter on a CPU;
  - batch 1: per-image latency over `repeats` calls -> median and p95 (ms);
  - batch N: `batch` images per call -> throughput (images/s) and ms per image (`latency/ms_per_image_bN`,
    N > 1), medians over repeats; with batch 1
    that call is the batch-1 call, so the batch-1 timings give the throughput without re-timing;
  - calibration: a fixed workload timed right before every batch-1 repeat on the same device
    (metrics/latency_calibration.py): by default a reference Muse-shaped transformer decode built from
    torch.nn, whose time scales with the CPU and thread count as a small model's does; or a
    float32 (C x C) matmul. `latency/ratio` = median over repeats of (model time / calibration
    time). Load on a shared machine slows both, so the ratio moves far less than raw seconds
    (benchmarks/latency_calibration.py measures it across thread counts);
  - peak memory: the process's peak RSS (getrusage), and CUDA max allocated on a GPU;
  - FLOPs per image from the adapter's describe(params); achieved FLOP/s = FLOPs / latency, and
    its fraction of the matmul's FLOP/s in the same run;
  - optionally a named reference model (`reference_model`, e.g. ldm-shapes) timed in the same
    repeats: `latency/ratio_to_reference` = model time / reference time, a gate that reads
    "no slower than 0.5x the diffusion baseline" whatever the machine.
Intervals: bootstrap of the median over repeats (seeded by the suite seed).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue, keyed
from musebench.metrics.intervals import bootstrap_interval

# torch (and calibration.py, built from torch.nn) is imported inside the functions that time: the
# suite loader and `musebench bench` check Options and outputs() before torch (issue 23).
CALIBRATIONS = ("transformer", "matmul")  # the workloads of metrics/latency_calibration.calibration_workload


# Integer options and their ranges: beyond these the run is a typo (a 10^9 x 10^9 matmul, 10^6 repeats).
BOUNDS = {"warmup": (0, 10_000), "repeats": (2, 10_000), "batch": (1, 4096), "calibration_size": (16, 16_384)}


@dataclass(frozen=True)
class Options:
    warmup: int = 2  # untimed calls before measuring
    repeats: int = 10  # timed calls per measurement
    batch: int = 8  # images per call for the throughput measurement
    # The denominator of latency/ratio (metrics/latency_calibration.py): "transformer", a fixed Muse-shaped
    # reference decode whose ratio travels between CPUs and thread counts, or "matmul" (C x C).
    calibration: str = "transformer"
    calibration_size: int = 512  # C of the C x C matmul (calibration: matmul)
    device: str | None = None  # timing device; default: the adapter's (see adapter_device)
    # A named reference model timed in the same loop (shipped name, checkpoint dir or diffusers
    # pipeline dir) at its default sampler settings plus `reference_params`: adds
    # latency/ratio_to_reference = model time / reference time, e.g. "Muse at 8 steps vs ldm-shapes".
    reference_model: str | None = None
    reference_params: dict | None = None

    def __post_init__(self) -> None:  # the suite loader reports this at file:line, before any image
        if self.calibration not in CALIBRATIONS:
            raise MusebenchError(f"calibration={self.calibration!r}; choose one of: {', '.join(CALIBRATIONS)}")
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise MusebenchError(f"latency: {name}={value!r} must be an integer in [{low}, {high}]")


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    """Seconds of one call of fn(), synchronised on the device (CUDA events on a GPU)."""
    import torch

    if device.startswith("cuda"):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1000.0
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _median_ci(values: np.ndarray, seed: int) -> tuple[float, float]:
    return bootstrap_interval(len(values), lambda idx: float(np.median(values[idx])), seed=seed, rounds=200)


def measure(adapter, prompts: list[str], params: dict, options: Options, seed: int, device: str,
            reference=None, reference_params: dict | None = None) -> dict:
    """Raw measurements: per-repeat seconds of batch 1, batch N, the calibration and the reference model.

    Each repeat times the calibration, the reference model (if any) and the model back to back, so
    load that comes and goes slows all of them alike and their ratios stay put.
    """
    import torch

    from musebench.metrics.latency_calibration import calibration_workload

    calib, calib_flops, calib_label = calibration_workload(options.calibration, options.calibration_size, device)
    one = lambda: adapter.generate(prompts[:1], [seed], params)  # noqa: E731
    batch_prompts = [prompts[i % len(prompts)] for i in range(options.batch)]
    many = lambda: adapter.generate(batch_prompts, [seed + i for i in range(options.batch)], params)  # noqa: E731
    ref_one = None
    if reference is not None:
        ref_one = lambda: reference.generate(prompts[:1], [seed], reference_params or {})  # noqa: E731
    for _ in range(options.warmup):
        calib()
        if ref_one is not None:
            ref_one()
        one()
        if options.batch > 1:
            many()
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    b1, cal, bn, ref = [], [], [], []
    for _ in range(options.repeats):
        cal.append(timed(calib, device))
        if ref_one is not None:
            ref.append(timed(ref_one, device))
        b1.append(timed(one, device))
    if options.batch == 1:  # batch N = 1 is the same call as batch 1: its throughput is 1 / those latencies
        bn = list(b1)
    else:
        for _ in range(options.repeats):
            bn.append(timed(many, device))
    return {"b1_s": np.array(b1), "calib_s": np.array(cal), "bn_s": np.array(bn), "calib_flops": calib_flops,
            "ref_s": np.array(ref) if ref_one is not None else None, "load_average": busy_cpu_warning(device),
            "calibration": calib_label}


def busy_cpu_warning(device: str) -> float | None:
    """The 1-min load average (None where unknown); warns on stderr when more work is runnable than
    there are cores (load > cores + 0.5), i.e. when other processes take CPU time from the timing.

    On a CPU whose cores are busy, torch's OpenMP threads wait for each other and one image can
    take many times longer (measured: a 5 s latency metric took 339 s with 2 threads beside two
    1-thread training jobs on 2 cores). The ratio to the calibration absorbs steady load, not that.
    """
    import torch

    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    cores = os.cpu_count() or 1
    if not device.startswith("cuda") and load > cores + 0.5 and not _WARNED:
        _WARNED.append(True)
        hint = "; set OMP_NUM_THREADS=1 for steadier timings" if torch.get_num_threads() > 1 else ""
        print(f"musebench: warning: latency timed with load average {load:.1f} on {cores} cores: other "
              f"processes share the CPU, so these timings are slower and noisier{hint} (docs/ci.md)", file=sys.stderr)
    return round(load, 2)


_WARNED: list[bool] = []  # one warning per process


def adapter_device(adapter) -> str:
    """The adapter's device: its `device` attribute, else that of its first torch parameter found on
    the adapter or its `pipe`; else cuda when available (timing then synchronises the GPU)."""
    import torch

    device = getattr(adapter, "device", None)
    if device is not None:
        return str(device)
    for owner in (adapter, getattr(adapter, "pipe", None)):
        for value in vars(owner).values() if owner is not None and hasattr(owner, "__dict__") else ():
            if isinstance(value, torch.nn.Module):
                param = next(value.parameters(), None)
                if param is not None:
                    return str(param.device)
    return "cuda" if torch.cuda.is_available() else "cpu"


class LatencyMetric:
    name = "latency"
    timed = True  # the runner runs it after every image metric, back to back, with no images

    def __init__(self, options: Options) -> None:
        self.options = options
        self._reference = None  # (adapter, full params), loaded on first use

    def reference(self, device: str, loaded: Mapping[str, object]):
        """The reference model's adapter and its sampler params (defaults + reference_params), checked.
        The adapter is the run's own where a suite model has the same checkpoint (`loaded`, by
        resolved directory), else loaded once here."""
        o = self.options
        if o.reference_model is None:
            return None, None
        if self._reference is None:
            from musebench.models.declared import of_adapter
            from musebench.models.registry import load_model, model_adapter

            adapter = loaded.get(str(model_adapter(o.reference_model)[1].resolve()))
            if adapter is None or adapter_device(adapter) != device:
                adapter = load_model(o.reference_model, device)
            params = of_adapter(adapter).merged(o.reference_params or {}, f"latency.reference_model {o.reference_model}")
            self._reference = (adapter, params)
        return self._reference

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        if ctx.adapter is None:
            raise MusebenchError("latency: needs a model adapter (images read from disk cannot be timed); remove 'latency' for this model")
        if not ctx.prompts:
            raise MusebenchError("latency: needs at least one prompt")
        o = self.options
        device = o.device or adapter_device(ctx.adapter)
        reference, reference_params = self.reference(device, ctx.loaded)
        m = measure(ctx.adapter, [r.prompt for r in ctx.prompts], dict(ctx.params), o, ctx.seed, device,
                    reference, reference_params)
        from musebench.metrics.describe_cache import cached_describe

        rows = rows_from(m, cached_describe(ctx.adapter, ctx.params, ctx.feature_cache_dir), o, ctx.seed, device)
        if reference is not None:
            ratio = m["b1_s"] / m["ref_s"]  # (repeats,)
            extra = {"reference_model": o.reference_model, "reference_params": reference_params,
                     "reference_fingerprint": reference.fingerprint(),
                     "reference_ms": float(np.median(m["ref_s"]) * 1000), "device": device, "repeats": o.repeats,
                     "definition": "batch-1 model time / batch-1 reference model time, median over paired repeats"}
            rows.append(MetricValue("latency/ratio_to_reference", float(np.median(ratio)), o.repeats, False,
                                    _median_ci(ratio, ctx.seed), extra))
        return rows


def rows_from(m: dict, description: dict, o: Options, seed: int, device: str) -> list[MetricValue]:
    import torch

    ms = m["b1_s"] * 1000.0  # (repeats,)
    ips = o.batch / m["bn_s"]  # (repeats,)
    ratio = m["b1_s"] / m["calib_s"]  # (repeats,)
    calib_flops = m.get("calib_flops")  # None for the reference transformer (its FLOPs are not the point)
    calib_flops_s = calib_flops / float(np.median(m["calib_s"])) if calib_flops else None
    flops = description.get("flops_per_image")
    extra = {
        "device": device, "repeats": o.repeats, "warmup": o.warmup, "batch": o.batch,
        "p95_ms": float(np.percentile(ms, 95)), "calibration": m.get("calibration", f"matmul {o.calibration_size}^2 float32"),
        "calibration_ms": float(np.median(m["calib_s"]) * 1000), "calibration_flops_per_s": calib_flops_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "load_average_1min": m.get("load_average"), "torch_threads": torch.get_num_threads(),
    }
    if device.startswith("cuda"):
        extra["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if isinstance(flops, (int, float)) and flops > 0:
        achieved = flops / float(np.median(m["b1_s"]))
        extra.update({"flops_per_image": float(flops), "achieved_flops_per_s": achieved})
        if calib_flops_s:
            extra["fraction_of_calibration"] = achieved / calib_flops_s
    n = o.repeats
    repeats = tuple(f"repeat/{i}" for i in range(len(ms)))  # per-repeat items: two runs pair by repeat position
    rows = [
        MetricValue("latency/ms_per_image_b1", float(np.median(ms)), n, False, _median_ci(ms, seed), dict(extra),
                    keyed(repeats, ms)),
        MetricValue("latency/images_per_s", float(np.median(ips)), n, True, _median_ci(ips, seed),
                    {**extra, "p5_images_per_s": float(np.percentile(ips, 5))}),
        MetricValue("latency/ratio", float(np.median(ratio)), n, False, _median_ci(ratio, seed),
                    {**extra, "definition": "batch-1 model time / calibration workload time, median over repeats"},
                    keyed(repeats, ratio)),
    ]
    if o.batch > 1:  # the batch-N call's time per image, with its repeats: a speed-up at batch N is a ratio of these
        per_image = m["bn_s"] * 1000.0 / o.batch  # (repeats,)
        rows.append(MetricValue(batch_metric(o.batch), float(np.median(per_image)), n, False, _median_ci(per_image, seed),
                                {**extra, "definition": f"time of one call of {o.batch} images / {o.batch}, median over repeats"},
                                keyed(repeats, per_image)))
    return rows


def batch_metric(batch: int) -> str:
    """The row of per-image time at batch N > 1, e.g. latency/ms_per_image_b64."""
    return f"latency/ms_per_image_b{batch}"


def outputs(options: Options) -> tuple[str, ...]:
    """The rows this metric writes (suite/parse.py checks gates against them)."""
    rows = ("latency/ms_per_image_b1", "latency/images_per_s", "latency/ratio")
    rows += (batch_metric(options.batch),) if options.batch > 1 else ()
    return rows + (("latency/ratio_to_reference",) if options.reference_model else ())


def build(options: Options) -> LatencyMetric:
    return LatencyMetric(options)
