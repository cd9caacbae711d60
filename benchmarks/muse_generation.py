"""Generation speed of the reference Muse vs this machine's measured matmul throughput.

    python benchmarks/muse_generation.py [--model muse-shapes] [--threads 1] [--batches 3]

Measures, in one run: images/s at batch 64, 12 steps, guidance on (the checkpoint's default s),
with the pipeline's default micro-batch and, for comparison, each of --micro-batches (images per
transformer forward; it never changes an image, only how well the activations fit in the caches;
timed in interleaved rounds, so the sizes are compared under the same machine load);
FLOPs per image (FlopCounterMode over the whole sampler: text encoder, 12 batched cond+uncond
transformer calls, VQ decode); a calibration (fp32 square matmul, same thread count); and the share
of the calibrated FLOP/s that sampling achieves. Also copies the checkpoint's recorded training wall
times. Writes benchmarks/results/muse_generation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "muse_generation.json"


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Best-of-5 fp32 GFLOP/s of an n x n matmul (2 n^3 FLOPs each)."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    a @ b  # warm-up
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="muse-shapes")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batches", type=int, default=5, help="timed rounds (after one warm-up)")
    parser.add_argument("--micro-batches", type=int, nargs="*", default=[64, 32, 16, 8],
                        help="also time these images-per-forward sizes (default: 64 32 16 8)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from musebench.models.registry import load_adapter
    from musebench.shapes import sample_prompts

    adapter = load_adapter("muse", args.model)
    params = {"steps": args.steps}
    info = adapter.describe(params)
    prompts = [r.prompt for r in sample_prompts("val", args.batch_size, 0)]
    seeds = list(range(args.batch_size))

    default_size = adapter.pipe.images_per_forward
    sizes = [default_size, *(n for n in args.micro_batches if n != default_size)]
    calibration = [matmul_gflops()]
    adapter.generate(prompts, seeds, params)  # warm-up
    # Rounds: each round times one batch per micro-batch size, the order rotating, so a slow
    # stretch of a shared machine hits every size alike (the comparison is paired).
    per_size: dict[int, list[float]] = {n: [] for n in sizes}
    for r in range(args.batches):
        for size in sizes[r % len(sizes):] + sizes[: r % len(sizes)]:
            adapter.pipe.images_per_forward = size
            t = time.perf_counter()
            adapter.generate(prompts, seeds, params)
            per_size[size].append(time.perf_counter() - t)
    adapter.pipe.images_per_forward = default_size
    calibration.append(matmul_gflops())
    times = per_size[default_size]
    by_size = {str(n): args.batch_size / statistics.median(v) for n, v in per_size.items()}
    for n, v in by_size.items():
        print(f"images per forward {n}: {v:.2f} images/s", flush=True)
    seconds = statistics.median(times)
    images_per_s = args.batch_size / seconds
    achieved = info["flops_per_image"] * images_per_s / 1e9
    training = json.loads((adapter.directory / "config.json").read_text()).get("training", {})
    result = {
        "model": args.model, "fingerprint": adapter.fingerprint(), "threads": args.threads,
        "batch_size": args.batch_size, "steps": args.steps, "guidance": adapter.defaults()["guidance"],
        "images_per_forward": default_size, "seconds_per_batch": times, "images_per_s": images_per_s,
        "images_per_s_by_images_per_forward": by_size,
        "flops_per_image": info["flops_per_image"], "transformer_flops_per_call": info["transformer_flops_per_call"],
        "achieved_gflops": achieved, "matmul_gflops_calibration": calibration,
        "share_of_matmul_flops": achieved / max(calibration),
        "training_wall_s": training.get("timings_s", {}),
        "training_total_min": sum(training.get("timings_s", {}).values()) / 60,
        "training_stages_min": sum(v for k, v in training.get("timings_s", {}).items() if k != "eval") / 60,
        "training_procs": training.get("procs", 1),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "torch": torch.__version__},
        "note": "shared 2-core machine: other jobs' load lowers both sampling and calibration numbers",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(json.dumps({k: result[k] for k in ("images_per_s", "flops_per_image", "achieved_gflops", "share_of_matmul_flops")}, indent=2))


if __name__ == "__main__":
    main()
