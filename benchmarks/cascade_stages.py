"""Latency of each stage of Muse's cascade (issue 26 item 2), measured in one run.

    OMP_NUM_THREADS=2 python benchmarks/cascade_stages.py [--repeats 10] [--batch 64]

Stages of one image (reference_model/cascade.py), each timed alone, in interleaved rounds so every
stage sees the same machine load: (1) the base model's decoding (12 steps, guidance: its shipped
sampler), (2) its VQ decode to 32 px, (3) the super-resolution stage's decoding (its shipped
sampler), (4) the 64 px VQ decode, and the baseline (5) bicubic 2x upsampling of the 32 px image.
At batch 1 (one prompt, --repeats rounds) and per image at --batch images per call. Medians with a
95 % percentile-bootstrap interval of the median (scipy.stats.bootstrap, 2,000 resamples, seed 0) and
each stage's share of the cascade's total. Writes benchmarks/results/cascade_stages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats

RESULTS = Path(__file__).resolve().parent / "results" / "cascade_stages.json"
STAGES = ("base_decoding", "base_vq_decode", "sr_decoding", "sr_vq_decode", "bicubic")


def median_ci(seconds: list[float]) -> dict:
    x = np.asarray(seconds) * 1e3
    ci = stats.bootstrap((x,), np.median, n_resamples=2000, method="percentile", random_state=0).confidence_interval
    return {"median_ms": float(np.median(x)), "ci95_ms": [float(ci.low), float(ci.high)], "n": len(x)}


def time_stages(cascade, prompts: list[str], seeds: list[int], base_params, sr_params) -> dict[str, float]:
    """Seconds of each stage for these images, each stage fed the previous stage's output."""
    from reference_model.cascade import bicubic

    base = cascade.base
    out: dict[str, float] = {}
    t = time.perf_counter()
    low = base.decode_ids(base.all_masked(len(prompts)), prompts, seeds, base_params)
    out["base_decoding"] = time.perf_counter() - t
    t = time.perf_counter()
    image32 = base.ids_to_images(low)
    out["base_vq_decode"] = time.perf_counter() - t
    t = time.perf_counter()
    high = cascade.upsample_ids(low, prompts, seeds, sr_params)
    out["sr_decoding"] = time.perf_counter() - t
    t = time.perf_counter()
    cascade.ids_to_images(high)
    out["sr_vq_decode"] = time.perf_counter() - t
    t = time.perf_counter()
    bicubic(image32)
    out["bicubic"] = time.perf_counter() - t
    return out


def summarise(rounds: list[dict[str, float]], per: int) -> dict:
    table = {s: median_ci([r[s] / per for r in rounds]) for s in STAGES}
    cascade = [sum(r[s] for s in STAGES[:4]) / per for r in rounds]
    baseline = [(r["base_decoding"] + r["base_vq_decode"] + r["bicubic"]) / per for r in rounds]
    table["cascade_total"] = median_ci(cascade)
    table["bicubic_total"] = median_ci(baseline)
    total = table["cascade_total"]["median_ms"]
    table["share_of_cascade"] = {s: table[s]["median_ms"] / total for s in STAGES[:4]}
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sr", default="musebench/checkpoints/muse-sr")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    from musebench.models.adapter_params import cascade_dirs
    from musebench.shapes import sample_prompts
    from reference_model.cascade import CascadePipeline
    from reference_model.sampler import params_from_config

    sr_dir, base_dir = cascade_dirs(args.sr)
    cascade = CascadePipeline.from_dirs(base_dir, sr_dir)
    b, s = cascade.base.config.sampler, cascade.config.sampler
    base_params, sr_params = params_from_config(b), params_from_config(s)
    records = sample_prompts("val", args.batch, 0)
    prompts, seeds = [r.prompt for r in records], [r.index for r in records]
    time_stages(cascade, prompts[:1], seeds[:1], base_params, sr_params)  # warm-up
    single = [time_stages(cascade, prompts[i % len(prompts) : i % len(prompts) + 1], [seeds[i % len(seeds)]],
                          base_params, sr_params) for i in range(args.repeats)]
    batched = [time_stages(cascade, prompts, seeds, base_params, sr_params) for _ in range(max(3, args.repeats // 3))]
    result = {
        "command": "python benchmarks/cascade_stages.py", "sr_checkpoint": str(sr_dir), "base_checkpoint": str(base_dir),
        "base_sampler": {"steps": b.steps, "guidance_s": b.guidance, "temperature": b.temperature},
        "sr_sampler": {"steps": s.steps, "guidance_s": s.guidance, "temperature": s.temperature,
                       "token_temperature": s.token_temperature},
        "threads": torch.get_num_threads(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "batch_1": summarise(single, 1), f"batch_{args.batch}_per_image": summarise(batched, args.batch),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("batch_1", f"batch_{args.batch}_per_image")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
