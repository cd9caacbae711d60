"""How the super-resolution stage should decode: steps x token temperature, measured (issue 26).

    python benchmarks/muse_sr_sampler.py [--n 320]

On val prompts drawn with seeds 7 and 11 (not the cascade suite's seed 0), one seed per prompt (its
index): (a) the stage on the base tokenizer's tokens of real 32 px renders, scored by the oracle at
64 px and by PSNR against the real 64 px render; (b) the cascade on the base model's own tokens (its
shipped sampler, 12 steps), beside the base model at 32 px and bicubic 2x. Oracle rates with Wilson
95 % intervals. Writes benchmarks/results/muse_sr_sampler.json; the shipped default (recipes/muse_sr.py
--sr-steps, --token-temperature) is chosen from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # recipes/ is not installed
RESULTS = ROOT / "benchmarks" / "results" / "muse_sr_sampler.json"
SETTINGS = [(1, 0.0), (4, 0.0), (8, 0.0), (16, 0.0), (4, 1.0), (8, 1.0), (16, 1.0)]  # (steps, token temperature)


def rate(images, records) -> dict:
    from musebench.metrics.intervals import wilson_interval
    from recipes.muse_shapes_eval import oracle_accuracy

    acc = oracle_accuracy(images, records)
    k, n = round(acc["all_correct"] * acc["n"]), acc["n"]
    return {"all_correct": acc["all_correct"], "n": n, "ci95": list(wilson_interval(k, n))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=320)
    parser.add_argument("--sr", default="musebench/checkpoints/muse-sr")
    args = parser.parse_args()
    from musebench.models.adapter_params import cascade_dirs
    from musebench.shapes import sample_prompts
    from recipes.muse_shapes_eval import render_records
    from recipes.muse_sr_eval import mean_ci, per_image_psnr
    from reference_model.cascade import CascadePipeline, bicubic
    from reference_model.sampler import SampleParams, params_from_config

    sr_dir, base_dir = cascade_dirs(args.sr)
    cascade = CascadePipeline.from_dirs(base_dir, sr_dir)
    b = cascade.base.config.sampler
    out: dict = {"command": "python benchmarks/muse_sr_sampler.py " + " ".join(sys.argv[1:]), "n": args.n,
                 "choice_temperature": 1.0, "on_real_tokens": {}, "cascade": {}}
    real = sample_prompts("val", args.n, 7)
    r64, r32 = render_records(real, 64), render_records(real, 32)
    true_low = cascade.base.encode_ids(r32)
    gen = sample_prompts("val", args.n, 11)
    prompts, seeds = [r.prompt for r in gen], [r.index for r in gen]
    low = cascade.base.decode_ids(cascade.base.all_masked(args.n), prompts, seeds,
                                  params_from_config(b, 12))
    base32 = cascade.base.ids_to_images(low)
    out["on_real_tokens"]["bicubic"] = {**rate(bicubic(r32), real), "psnr_db": mean_ci(per_image_psnr(bicubic(r32), r64))}
    out["cascade"]["base_32"], out["cascade"]["bicubic"] = rate(base32, gen), rate(bicubic(base32), gen)
    for steps, tt in SETTINGS:
        params = SampleParams(steps=steps, guidance=0.0, temperature=1.0, token_temperature=tt)
        key = f"steps={steps} token_temperature={tt:g}"
        on_real = cascade.ids_to_images(cascade.upsample_ids(true_low, [r.prompt for r in real], [r.index for r in real], params))
        out["on_real_tokens"][key] = {**rate(on_real, real), "psnr_db": mean_ci(per_image_psnr(on_real, r64))}
        out["cascade"][key] = rate(cascade.ids_to_images(cascade.upsample_ids(low, prompts, seeds, params)), gen)
        print(key, out["on_real_tokens"][key]["all_correct"], out["cascade"][key]["all_correct"], flush=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
