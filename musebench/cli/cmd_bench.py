"""`musebench bench`: latency of one model, with a calibration matmul timed in the same run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reference_model.sampler_choices import GUIDANCE_SCHEDULES

DESCRIPTION = (
    "Time one model's generate(): warm-up, synchronised timing (CUDA events on a GPU), per-image "
    "latency at batch 1 (median, p95), throughput at batch N, peak memory, FLOPs per image from the "
    "adapter's describe(), and latency/ratio = model time / a float32 matmul timed right before each "
    "repeat, which CI can gate on (raw seconds move with machine load; the ratio much less)."
)

EPILOG = """examples:
  musebench bench --model muse-shapes
  musebench bench --model muse-shapes --steps 8 --batch 16 --repeats 20 --out /tmp/latency.json
  musebench bench --model ldm-shapes --scheduler ddim --steps 25 --device cuda

Prompts: the first shapes val prompts (--prompt to give one). Output: one JSON object with the
result rows latency/ms_per_image_b1, latency/images_per_s, latency/ratio and, with --batch N > 1,
latency/ms_per_image_bN, as a suite's `latency` metric writes them. Exit codes: 0 ok, 2 bad input (one line on stderr).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="NAME_OR_DIR", help="shipped name or checkpoint dir")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--prompt", default=None, help="prompt to time (default: shapes val prompts)")
    parser.add_argument("--batch", type=int, default=8, help="images per call for throughput (default 8)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (default 2)")
    parser.add_argument("--calibration", choices=("transformer", "matmul"), default="transformer",
                        help="denominator of latency/ratio: a fixed reference transformer decode (default; the ratio "
                             "travels between CPUs and thread counts) or a C x C matmul (gives the FLOP/s fraction)")
    parser.add_argument("--calibration-size", type=int, default=512, help="C of the C x C matmul (default 512)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    sampler = parser.add_argument_group("sampler parameters (default: the model's own)")
    sampler.add_argument("--steps", type=int, default=None)
    sampler.add_argument("--guidance", type=float, default=None)
    sampler.add_argument("--guidance-schedule", choices=GUIDANCE_SCHEDULES, default=None)
    sampler.add_argument("--temperature", type=float, default=None)
    sampler.add_argument("--scheduler", default=None)
    sampler.add_argument("--negative-prompt", default=None)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from musebench.cli.cmd_generate import check_flag_bounds, check_flags_early, load_checked
    from musebench.cache.atomic import check_writable, write_atomic

    check_flag_bounds(args)  # before torch and the model are loaded
    from musebench.metrics.latency import Options, measure, rows_from

    options = Options(warmup=args.warmup, repeats=args.repeats, batch=args.batch, calibration=args.calibration,
                      calibration_size=args.calibration_size, device=args.device)  # checks every bound
    if args.out is not None:
        check_writable(args.out, "--out")  # before minutes of timing
    check_flags_early(args)  # the model's declared params, before torch
    adapter, given = load_checked(args)
    params = {**adapter.defaults(), **given}
    if args.prompt is not None:
        prompts = [args.prompt]
    else:
        from musebench.shapes import sample_prompts

        prompts = [r.prompt for r in sample_prompts("val", max(args.batch, 1), 0)]
    measured = measure(adapter, prompts, params, options, args.seed, args.device)
    rows = rows_from(measured, adapter.describe(params), options, args.seed, args.device)
    out = {"model": args.model, "params": params, "options": asdict(options),
           "rows": [{"metric": r.metric, "value": r.value, "n": r.n, "ci95": list(r.ci95), "higher_is_better": r.higher_is_better, "extra": r.extra} for r in rows]}
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.out is not None:
        write_atomic(args.out, (text + "\n").encode(), "--out")
    return 0
