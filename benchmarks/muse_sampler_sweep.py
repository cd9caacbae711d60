"""Which sampler defaults to ship: oracle all-correct over guidance x schedule x choice temperature.

    python benchmarks/muse_sampler_sweep.py --model muse-shapes [--n 120]
    python benchmarks/muse_sampler_sweep.py --work runs/muse-shapes-train   # a training in progress

Scores 12-step generations of n prompts of --split (default test: the shipped model's card reports
val, so choosing the defaults on val would flatter them) with image seed = prompt index, for each
setting, and writes benchmarks/results/muse_sampler_sweep.json. The same prompts and seeds for
every setting, so differences are paired.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "muse_sampler_sweep.json"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # recipes/ (the training code) is not installed: import it from this checkout


def pipeline_from_work(work: Path):
    """A MusePipeline from a training work dir's latest states (no packaged checkpoint needed)."""
    from recipes import muse_shapes
    from reference_model.pipeline import MusePipeline
    from reference_model.text_encoder import FrozenTextEncoder
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    config = muse_shapes.model_config(muse_shapes.parse_args([]))
    vq, transformer = VQModel(config.vq), MaskedTransformer(config.transformer)
    vq.load_state_dict(torch.load(work / "vq" / "vq_state.pt", weights_only=True)["model"])
    state = torch.load(work / "transformer" / "state.pt", weights_only=True)
    transformer.load_state_dict(state["model"])
    return MusePipeline(config, vq, transformer, FrozenTextEncoder(config.text_encoder)), int(state["step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="checkpoint name or dir")
    parser.add_argument("--work", type=Path, default=None, help="training work dir instead of --model")
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--guidance", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    parser.add_argument("--temperature", type=float, nargs="+", default=[1.0, 4.5])
    parser.add_argument("--schedule", nargs="+", default=["constant"], choices=["constant", "linear"],
                        help="guidance schedules (Muse: linear ramp)")
    parser.add_argument("--split", default="test", choices=["train", "val", "test", "holdout"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from musebench.shapes import sample_prompts
    from recipes.muse_shapes_eval import oracle_accuracy
    from reference_model.pipeline import MusePipeline
    from reference_model.sampler import SampleParams

    if args.work is not None:
        pipe, step = pipeline_from_work(args.work)
        source = f"{args.work} (transformer step {step})"
    else:
        from musebench.models.checkpoints import resolve_checkpoint

        directory = resolve_checkpoint(args.model or "muse-shapes").resolve()
        pipe = MusePipeline.from_dir(str(directory))
        source = str(directory.relative_to(ROOT)) if directory.is_relative_to(ROOT) else str(directory)  # no checkout path
    records = sample_prompts(args.split, args.n, 0)
    rows = []
    for schedule in args.schedule:
        for guidance in args.guidance:
            for temperature in args.temperature:
                params = SampleParams(steps=12, guidance=guidance, guidance_schedule=schedule, temperature=temperature)
                images = torch.cat([pipe.generate([r.prompt for r in records[i : i + 64]], [r.index for r in records[i : i + 64]], params)
                                    for i in range(0, len(records), 64)])
                scores = oracle_accuracy(images, records)
                rows.append({"guidance": guidance, "schedule": schedule, "temperature": temperature, **scores})
                print(json.dumps(rows[-1]), flush=True)
    best = max(rows, key=lambda r: r["all_correct"])
    result = {"source": source, "split": args.split, "steps": 12, "n": args.n, "rows": rows,
              "best": {k: best[k] for k in ("guidance", "schedule", "temperature", "all_correct")}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
