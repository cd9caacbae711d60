"""Batch invariance of the shipped models: byte identity across batch sizes, and what it costs.

    python benchmarks/batch_invariance.py [--n 64] [--threads 1 2] [--speed-images 32] [--repeats 3]

Two modes of the same loaded models, switched in place:
  batched  the kernels before the fix: the VQ decoder, PixArt's timestep embedding and its patch
           embedding run on the whole batch (their CPU kernels round differently per batch size);
  per_row  as shipped: those parts run one image / one distinct timestep at a time
           (reference_model/batch_invariance.py).
Identity: --n shapes val prompts (seeds as the planner gives them, suite seed 0), muse-shapes and
ldm-shapes at their default settings, generated at batch sizes 1, 7, 16, 64 in each mode at each
thread count; every batch size's images compared byte for byte with batch 1's (and, per_row, the
2-thread images with the 1-thread ones). Speed: images/s at the suite batch sizes (16 in every
shapes suite, 64 as in fid30k), the two modes alternating ABBA over --repeats rounds so a busy
stretch of the shared machine hits both alike; medians and per_row/batched ratio.
Writes benchmarks/results/batch_invariance.json.
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

RESULTS = Path(__file__).resolve().parent / "results" / "batch_invariance.json"
MODELS = ("muse-shapes", "ldm-shapes")
BATCH_SIZES = (1, 7, 16, 64)


def _pixart(pipe):
    return getattr(pipe.denoiser, "transformer", pipe.denoiser)


def set_mode(pipe, mode: str) -> None:
    """Switch a loaded MusePipeline / LDMPipeline between 'batched' and 'per_row' in place."""
    from reference_model.batch_invariance import make_pixart_batch_invariant

    vq = pipe.vq
    if mode == "batched":
        vq.decode_codes = lambda z: vq.decoder(z).clamp(-1, 1)  # the decode before the fix
    else:
        vq.__dict__.pop("decode_codes", None)  # back to VQModel.decode_codes (per image)
    if hasattr(pipe, "denoiser"):
        pixart = _pixart(pipe)
        if mode == "batched":
            for module in (pixart.pos_embed, pixart.adaln_single):
                module.__dict__.pop("forward", None)  # the class's batched forward
            pixart._batch_invariant = False
        else:
            make_pixart_batch_invariant(pixart)


def generate(adapter, prompts: list[str], seeds: list[int], batch_size: int) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([adapter.generate(prompts[i : i + batch_size], seeds[i : i + batch_size], {})
                          for i in range(0, len(prompts), batch_size)])  # (N, 3, H, W) uint8


def compare(images: torch.Tensor, reference: torch.Tensor) -> dict:
    differ = (images != reference).flatten(1)  # (N, 3*H*W)
    return {"images": len(images), "differing_images": int(differ.any(1).sum()), "differing_values": int(differ.sum()),
            "max_abs_diff": int((images.int() - reference.int()).abs().max()) if len(images) else 0}


def identity(adapter, prompts, seeds, threads: int, modes: list[str]) -> tuple[dict, dict]:
    """-> ({mode: {batch size: comparison with batch 1}}, {mode: {batch size: images}})."""
    torch.set_num_threads(threads)
    out, images = {}, {}
    for mode in modes:
        set_mode(adapter.pipe, mode)
        images[mode] = {b: generate(adapter, prompts, seeds, b) for b in BATCH_SIZES}
        out[mode] = {str(b): compare(images[mode][b], images[mode][1]) for b in BATCH_SIZES[1:]}
        print(f"identity {threads} thread(s) {mode}: {out[mode]}", flush=True)
    set_mode(adapter.pipe, "per_row")
    return out, images


def speed(adapter, prompts, seeds, batch_size: int, threads: int, repeats: int) -> dict:
    """images/s per mode, the modes alternating ABBA (one warm-up each)."""
    torch.set_num_threads(threads)
    seconds: dict[str, list[float]] = {"batched": [], "per_row": []}
    for mode in seconds:
        set_mode(adapter.pipe, mode)
        generate(adapter, prompts[:batch_size], seeds[:batch_size], batch_size)
    for r in range(repeats):
        for mode in ("batched", "per_row") if r % 2 == 0 else ("per_row", "batched"):
            set_mode(adapter.pipe, mode)
            t = time.perf_counter()
            generate(adapter, prompts, seeds, batch_size)
            seconds[mode].append(time.perf_counter() - t)
    set_mode(adapter.pipe, "per_row")
    rate = {mode: len(prompts) / statistics.median(s) for mode, s in seconds.items()}
    ratios = [b / p for b, p in zip(seconds["per_row"], seconds["batched"])]  # per round: time cost
    result = {"batch_size": batch_size, "threads": threads, "images": len(prompts), "seconds": seconds,
              "images_per_s": rate, "per_row_over_batched_throughput": rate["per_row"] / rate["batched"],
              "per_round_time_ratio": ratios, "median_time_cost": statistics.median(ratios) - 1.0}
    print(f"speed {threads} thread(s) batch {batch_size}: {rate}, cost {result['median_time_cost']:+.1%}", flush=True)
    return result


def _alternate(calls: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each mode's call, the modes alternating ABBA after one warm-up each."""
    seconds: dict[str, list[float]] = {mode: [] for mode in calls}
    for mode, call in calls.items():
        call()
    for r in range(repeats):
        for mode in list(calls) if r % 2 == 0 else list(calls)[::-1]:
            t = time.perf_counter()
            calls[mode]()
            seconds[mode].append(time.perf_counter() - t)
    return {mode: statistics.median(s) for mode, s in seconds.items()}


def component_costs(adapter, batch_size: int, threads: int, repeats: int) -> dict:
    """Seconds per image of just the parts the fix changes, both modes alternating: the VQ decode
    and (ldm) the denoiser call times its steps. A paired, low-noise view of the cost."""
    from reference_model.ldm.denoiser import predict

    torch.set_num_threads(threads)
    pipe, g = adapter.pipe, torch.Generator().manual_seed(0)
    grid = pipe.config.vq.grid
    ids = torch.randint(0, pipe.config.vq.codebook_size, (batch_size, grid, grid), generator=g)

    def in_mode(mode, fn):
        return lambda: (set_mode(pipe, mode), fn())

    with torch.inference_mode():
        decode = _alternate({m: in_mode(m, lambda: pipe.vq.decode(ids)) for m in ("batched", "per_row")}, repeats)
        out = {"batch_size": batch_size, "threads": threads,
               "decode_s_per_image": {m: s / batch_size for m, s in decode.items()}}
        if hasattr(pipe, "denoiser"):
            d, rows, steps = pipe.config.denoiser, 2 * batch_size, adapter.defaults()["steps"]
            x = torch.randn(rows, d.latent_channels, d.grid, d.grid, generator=g)
            t = torch.tensor(500).expand(rows)
            hidden, mask = pipe.text_encoder(["a red circle"] * rows)
            call = lambda: predict(pipe.denoiser, x, t, hidden, mask)  # noqa: E731
            denoise = _alternate({m: in_mode(m, call) for m in ("batched", "per_row")}, repeats)
            out["denoiser_s_per_image"] = {m: s * steps / batch_size for m, s in denoise.items()}
    set_mode(pipe, "per_row")
    extra = sum(v["per_row"] - v["batched"] for k, v in out.items() if k.endswith("_s_per_image"))
    out["extra_s_per_image"] = extra
    print(f"components {threads} thread(s) batch {batch_size}: {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=64, help="images per identity check")
    parser.add_argument("--n-threaded", type=int, default=32, help="images per identity check at > 1 thread")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batched-threads", type=int, nargs="*", default=None,
                        help="thread counts at which the 'batched' mode is also checked (default: all)")
    parser.add_argument("--speed-images", type=int, default=64, help="images per timed round")
    parser.add_argument("--speed-batch-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--speed-threads", type=int, nargs="+", default=[1])
    parser.add_argument("--repeats", type=int, default=4, help="timed rounds per mode (ABBA)")
    parser.add_argument("--component-repeats", type=int, default=20, help="timed rounds of the changed parts alone")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from musebench.models.registry import load_model
    from musebench.plan import image_seed
    from musebench.shapes import sample_prompts

    started = time.time()
    prompts = [r.prompt for r in sample_prompts("val", max(args.n, args.speed_images), 0)]
    seeds = [image_seed(0, p, 0) for p in prompts]
    batched_threads = args.threads if args.batched_threads is None else args.batched_threads
    result = json.loads(args.out.read_text()) if args.out.is_file() else {}  # other models' entries stay
    result.setdefault("models", {})
    for name in args.models:
        adapter = load_model(name)
        entry = result["models"][name] = {"fingerprint": adapter.fingerprint(), "params": adapter.defaults(),
                                          "identity": {}, "speed": [], "load_average_start": os.getloadavg()[0]}
        per_row_images = {}
        for threads in args.threads:
            modes = ["per_row"] + (["batched"] if threads in batched_threads else [])
            n = args.n if threads == 1 else min(args.n, args.n_threaded)  # batch 1 at 2 threads is slow here
            found, images = identity(adapter, prompts[:n], seeds[:n], threads, modes)
            entry["identity"][f"{threads}_threads"] = found
            per_row_images[threads] = images["per_row"][1]
            if "batched" in images:  # what the fix changes for an image generated at batch 16 before
                entry["identity"][f"{threads}_threads"]["per_row_vs_batched_at_batch_16"] = compare(
                    images["per_row"][16], images["batched"][16])
        if len(per_row_images) > 1:
            first, *rest = sorted(per_row_images)
            entry["identity"]["per_row_across_threads"] = {
                f"{t}_vs_{first}": compare(per_row_images[t], per_row_images[first][: len(per_row_images[t])]) for t in rest}
        for threads in args.speed_threads:
            for batch_size in args.speed_batch_sizes:
                timed = speed(adapter, prompts[: args.speed_images], seeds[: args.speed_images],
                              batch_size, threads, args.repeats)
                parts = component_costs(adapter, batch_size, threads, args.component_repeats)
                # the parts' extra time over the whole per-image time of the batched mode
                timed["component_time_cost"] = parts["extra_s_per_image"] * timed["images_per_s"]["batched"]
                timed["components"] = parts
                entry["speed"].append(timed)
        entry.update({"n": args.n, "n_threaded": args.n_threaded, "batch_sizes": list(BATCH_SIZES),
                      "repeats": args.repeats, "wall_s": time.time() - started, "load_average_end": os.getloadavg()[0]})
        write(result, args.out)  # after each model: a later failure keeps what was measured


def write(result: dict, out: Path) -> None:
    result.update({
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "torch": torch.__version__,
                    "capability": torch.backends.cpu.get_cpu_capability()},
        "note": "shared 2-core machine (other jobs running): compare the modes within a round, not across files",
    })
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()
