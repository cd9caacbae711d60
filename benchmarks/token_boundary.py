"""Issue 25 item 3 on muse-shapes: the token-boundary measure checked on real images, then the refinement trajectory.

    python benchmarks/token_boundary.py [--n 500] [--split val] [--rounds 9999]

The measure (musebench/metrics/token_boundary.py: mean |difference| across patch-grid lines over the
mean of one grid period, 1 = grid-agnostic, p = patch mosaic) on the same --n prompts of --split
(prompt stream seed --prompt-seed, image seed = prompt index), patch p read from the checkpoint's VQ:
- real: the prompts' scenes rendered (the `real` adapter's images);
- real_shifted: the same cyclically shifted by p/2 px down and right (edges moved off their layout's
  preferred places relative to the grid: what the renders alone contribute);
- vq_reconstruction: real encoded and decoded by the checkpoint's VQ (the tokenizer's own seams);
- half_mosaic, mosaic: real blended 1:1 with its patch-mean mosaic, and the mosaic itself (synthetic blocky);
- muse: the checkpoint's generations at its default sampler settings.
Per set: mean with a 95 % BCa bootstrap interval (scipy.stats.bootstrap, --rounds, seed
--bootstrap-seed; flat images are NaN and left out, counted); per model set: the paired difference
from real (stats/paired.paired_bootstrap). Then the refinement trajectory (generate_with_confidence
trajectory=True): after each step k = 1..K the image with the remaining masks filled by that step's
argmax, its oracle all-correct accuracy (Wilson 95 %) and token-boundary mean. Writes
benchmarks/results/token_boundary.json.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "token_boundary.json"
sys.path.insert(0, str(ROOT))  # recipes/ (render_records, reconstruct, write_json) is not installed


def mean_ci(values: np.ndarray, rounds: int, seed: int) -> dict:
    """Mean of the non-NaN values with a BCa 95 % interval; zero-width when every value is equal."""
    from scipy import stats

    x = values[~np.isnan(values)]
    mean = float(x.mean())
    if np.ptp(x) == 0:  # a constant sample (every mosaic is exactly p): BCa is undefined, the interval is the value
        ci, method = (mean, mean), "zero-width (every value equal)"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's DegenerateDataWarning; checked below
            result = stats.bootstrap((x,), np.mean, n_resamples=rounds, method="BCa", rng=np.random.default_rng(seed))
        ci, method = (float(result.confidence_interval.low), float(result.confidence_interval.high)), "BCa"
    return {"n": int(values.size), "n_flat_nan": int(values.size - x.size), "mean": mean, "ci95": list(ci),
            "ci_method": f"{method}, {rounds} rounds, seed {seed}", "median": float(np.median(x)),
            "quartiles": [float(q) for q in np.quantile(x, [0.25, 0.75])]}


def paired_vs(real: np.ndarray, other: np.ndarray, rounds: int, seed: int) -> dict:
    """mean(other) - mean(real) over the prompts where neither is NaN (BCa over pairs, permutation p)."""
    from musebench.stats.paired import paired_bootstrap

    keep = ~(np.isnan(real) | np.isnan(other))
    diff = paired_bootstrap(real[keep], other[keep], rounds=rounds, seed=seed)
    return {"n_pairs": diff.n, "diff": diff.diff, "ci95": list(diff.ci95), "p_value": diff.p_value, "method": diff.method}


def mosaic(images: torch.Tensor, p: int) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> each p x p patch replaced by its mean colour (rounded): every edge on the grid."""
    means = torch.nn.functional.avg_pool2d(images.double(), p)  # (N, 3, H/p, W/p)
    return means.round().to(torch.uint8).repeat_interleave(p, dim=2).repeat_interleave(p, dim=3)


def trajectory_rows(frames: np.ndarray, records, p: int, rounds: int, seed: int) -> list[dict]:
    """frames (N, K, 3, H, W) uint8 -> one row per step k = 1..K: oracle all-correct and token-boundary mean."""
    from musebench.metrics.intervals import wilson_interval
    from musebench.metrics.token_boundary import token_boundary_ratio
    from musebench.shapes import scene_from_dict, score_image

    scenes = [scene_from_dict(r.scene) for r in records]
    rows = []
    for k in range(frames.shape[1]):
        hwc = frames[:, k].transpose(0, 2, 3, 1)  # (N, H, W, 3): the oracle reads numpy images channels-last
        correct = sum(score_image(image, scene).all_correct for image, scene in zip(hwc, scenes))
        rows.append({"step": k + 1, "oracle_all_correct": correct / len(scenes),
                     "oracle_ci95": list(wilson_interval(correct, len(scenes))),
                     "token_boundary": mean_ci(token_boundary_ratio(frames[:, k], p), rounds, seed)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="muse-shapes", help="checkpoint name or dir")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--split", default="val", choices=["train", "val", "test", "holdout"])
    parser.add_argument("--prompt-seed", type=int, default=0)
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=9999)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from musebench.metrics.token_boundary import token_boundary_ratio
    from musebench.models.confidence import TRAJECTORY_IMAGES
    from musebench.models.registry import load_adapter
    from musebench.shapes import sample_prompts
    from recipes.muse_shapes_eval import reconstruct, render_records, write_json

    start = time.perf_counter()
    adapter = load_adapter("muse", args.model, "cpu")
    vq_config = adapter.pipe.config.vq
    p = vq_config.downsample  # patch side = image side / token grid side
    records = sample_prompts(args.split, args.n, args.prompt_seed)
    real = render_records(records, vq_config.image_size)  # (N, 3, H, W) uint8
    images, frames = [], []
    for i in range(0, len(records), args.batch_size):
        batch = records[i : i + args.batch_size]
        out, confidence = adapter.generate_with_confidence([r.prompt for r in batch], [r.index for r in batch], {},
                                                           trajectory=True)
        images.append(out)
        frames.append(confidence[TRAJECTORY_IMAGES])  # (B, K, 3, H, W), [:, -1] checked equal to `out`
    sets = {"real": real, "real_shifted": torch.roll(real, (p // 2, p // 2), dims=(2, 3)),
            "vq_reconstruction": reconstruct(adapter.pipe.vq, real), "half_mosaic": None, "mosaic": mosaic(real, p),
            "muse": torch.cat(images)}
    sets["half_mosaic"] = ((real.int() + sets["mosaic"].int() + 1) // 2).to(torch.uint8)
    ratios = {name: token_boundary_ratio(x, p) for name, x in sets.items()}
    result = {
        "what": "token-boundary ratio (musebench/metrics/token_boundary.py) on real, reconstructed, blocky and "
                "generated images; refinement trajectory of muse (issue 25 item 3)",
        "command": "python " + " ".join([str(Path(sys.argv[0]).resolve().relative_to(ROOT))] + sys.argv[1:]),
        "model": args.model, "sampler": adapter.defaults(), "patch": p, "image_size": vq_config.image_size,
        "split": args.split, "prompt_seed": args.prompt_seed, "image_seeds": "prompt index",
        "bootstrap_seed": args.bootstrap_seed, "rounds": args.rounds,
        "sets": {name: mean_ci(r, args.rounds, args.bootstrap_seed) for name, r in ratios.items()},
        "paired_minus_real": {name: paired_vs(ratios["real"], ratios[name], args.rounds, args.bootstrap_seed)
                              for name in ("real_shifted", "vq_reconstruction", "muse")},
        "trajectory": trajectory_rows(np.concatenate(frames), records, p, args.rounds, args.bootstrap_seed),
        "seconds": time.perf_counter() - start,
        "git": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                    "threads": args.threads},
    }
    write_json(args.out, result)
    for name, row in result["sets"].items():
        print(f"{name:18s} n={row['n']} mean={row['mean']:.4f} ci95=[{row['ci95'][0]:.4f}, {row['ci95'][1]:.4f}]")
    for row in result["trajectory"]:
        tb = row["token_boundary"]
        print(f"step {row['step']:2d} oracle={row['oracle_all_correct']:.3f} token_boundary={tb['mean']:.4f}")


if __name__ == "__main__":
    main()
