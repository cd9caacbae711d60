"""Does the super-resolution stage add detail when its low-res tokens are right? Random-VGG FID at 64 px.

The cascade suite (suites/cascade_sr.yaml) compares the stage with bicubic 2x on the base model's own
images, where both inherit the base model's errors. Here both start from the real scenes instead: N
val prompts (seed --seed) rendered at 32 px, then (a) the shipped stage (muse-sr, its shipped sampler,
seed = the prompt's index) on the base tokenizer's tokens of those renders and (b) bicubic 2x of those
renders; with (c) the scenes' own 64 px renders as the floor. Each set's FID in random-VGG space
(musebench/metrics/random_vgg.py) against --reference 64 px test-split renders, and the difference
(a) - (b) with a 95 % basic bootstrap interval (both sets resampled independently, --rounds rounds,
seed 0; the reference held fixed, as results/compare_setlevel.py does). Writes
benchmarks/results/sr_detail.json.

    python benchmarks/sr_detail.py [--n 1000] [--reference 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "sr_detail.json"


def stage_on_real_tokens(records, low: torch.Tensor, batch: int = 100) -> torch.Tensor:
    """(N, 3, 64, 64) uint8: the shipped stage (and its base, as the adapter resolves them) on the base
    tokenizer's tokens of `low` (N, 3, 32, 32), at its shipped sampler."""
    from musebench.models.adapter_params import cascade_dirs
    from reference_model.cascade import CascadePipeline
    from reference_model.sampler import params_from_config

    sr_dir, base_dir = cascade_dirs(None)
    cascade = CascadePipeline.from_dirs(base_dir, sr_dir)
    params = params_from_config(cascade.config.sampler)
    parts = []
    with torch.no_grad():
        for i in range(0, len(records), batch):
            chunk = records[i : i + batch]
            ids = cascade.upsample_ids(cascade.base.encode_ids(low[i : i + batch]), [r.prompt for r in chunk],
                                       [r.index for r in chunk], params)
            parts.append(cascade.ids_to_images(ids))
    return torch.cat(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="val prompts")
    parser.add_argument("--reference", type=int, default=5000, help="64 px test-split renders")
    parser.add_argument("--seed", type=int, default=11, help="val prompt sample")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from musebench.metrics.intervals import basic_interval, two_sample_replicates
    from musebench.metrics.random_vgg import RandomVggExtractor
    from musebench.metrics.stats import fid, stats_from_features
    from musebench.shapes import sample_prompts
    from recipes.muse_shapes_eval import render_records
    from reference_model.cascade import bicubic

    t0 = time.perf_counter()
    val, test = sample_prompts("val", args.n, args.seed), sample_prompts("test", args.reference, 0)
    real64, real32 = render_records(val, 64), render_records(val, 32)
    extractor = RandomVggExtractor()

    def features(images: torch.Tensor) -> np.ndarray:  # (N, 128) float64
        return torch.cat([extractor.embed(images[i : i + 500].float()) for i in range(0, len(images), 500)]).double().numpy()

    ref = stats_from_features(features(render_records(test, 64))).with_factor()  # its square-root factor, once

    def fid_of(f: np.ndarray) -> float:
        return fid(stats_from_features(f), ref)

    sets = {"real_64": features(real64), "stage_on_real_tokens": features(stage_on_real_tokens(val, real32)),
            "bicubic_of_real_32": features(bicubic(real32))}
    values = {name: fid_of(f) for name, f in sets.items()}
    a, b = sets["stage_on_real_tokens"], sets["bicubic_of_real_32"]
    replicates = two_sample_replicates(len(a), len(b), lambda ia, ib: fid_of(a[ia]) - fid_of(b[ib]), 0, args.rounds)
    diff = values["stage_on_real_tokens"] - values["bicubic_of_real_32"]
    result = {
        "command": " ".join(["python benchmarks/sr_detail.py", *sys.argv[1:]]), "extractor": extractor.fingerprint,
        "n": args.n, "n_reference": args.reference, "fid_random_vgg": values,
        "stage_minus_bicubic": {"diff": diff, "ci95": list(basic_interval(diff, replicates)),
                                "method": f"basic bootstrap, both sets resampled independently, {args.rounds} rounds, seed 0; reference fixed"},
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
