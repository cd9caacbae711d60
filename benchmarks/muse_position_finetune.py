"""Does naming a position scene's objects in both orders teach the reference Muse where each goes?

The 10,000-step muse-shapes got position prompts right 38.5 % of the time (issue 3 target: 70 %); its
two objects usually sit on the right axis in the wrong order. Hypothesis: training on both
captions of each position image ("A left of B" and its converse "B right of A", same pixels) makes
the model bind the relation to the named order. Experiment: fine-tune the shipped transformer for
--steps more steps from its weights, once with the converse caption drawn with probability
--converse-prob and once without (the control: the same extra training), then score both with the
oracle on the same val prompts (12 steps, the shipped sampler settings).

    python benchmarks/muse_position_finetune.py --name converse --converse-prob 0.5
    python benchmarks/muse_position_finetune.py --name control --converse-prob 0
    python benchmarks/muse_position_finetune.py --name shipped --converse-prob 0 --steps 0   # the baseline

Needs the training work dir of the shipped checkpoint (train_set.pt and tokens.pt, written by
`python -m recipes.muse_shapes`). Writes benchmarks/results/muse_position_finetune_NAME.json
(settings, wall times, loss at the end, oracle accuracy per category) and keeps the fine-tuned
transformer's state in --out (not shipped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # recipes/ (the training code) is not installed: import it from this checkout


def add_text_positions(transformer, length: int) -> None:
    """The experiment's variant: text states + a learned (L, width) table, zero at the start, so the
    fine-tune starts from exactly the model it is compared with (the table is a new parameter)."""
    import types

    from reference_model.transformer import TextContext

    transformer.text_pos = torch.nn.Parameter(torch.zeros(1, length, transformer.config.width))

    def text_context(self, hidden, mask):
        text = self.text_norm(self.text_proj(hidden)) + self.text_pos[:, : hidden.shape[1]]  # (B, L, width)
        kvs = [block.cross_attn.keys_values(text) for block in self.blocks]
        return TextContext(keys=tuple(k for k, _ in kvs), values=tuple(v for _, v in kvs), mask=mask[:, None, None, :])

    transformer.text_context = types.MethodType(text_context, transformer)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="names the results file and the default --out")
    p.add_argument("--converse-prob", type=float, required=True, help="chance of the converse caption (0: control)")
    p.add_argument("--work", type=Path, default=ROOT / "runs" / "muse-shapes-train", help="the checkpoint's training work dir")
    p.add_argument("--checkpoint", default="muse-shapes", help="shipped name or checkpoint dir to start from")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--lr", type=float, default=2e-4, help="peak learning rate (warm-up 50 steps, cosine to 0)")
    p.add_argument("--seed", type=int, default=1, help="batch stream seed (the original training used 0)")
    p.add_argument("--eval-prompts", type=int, default=600, help="val prompts scored at the end (100 per category)")
    p.add_argument("--text-positions", action="store_true",
                   help="add learned position embeddings (zero-initialised) to the projected text states, so "
                        "cross-attention can tell the first noun from the second (not in the shipped model)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=None, help="fine-tuning state and logs (default runs/position-finetune-NAME)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from musebench.models.checkpoints import resolve_checkpoint
    from recipes import muse_shapes_data as data_mod
    from recipes.muse_shapes_eval import final_eval
    from reference_model.pipeline import MusePipeline
    from reference_model.training import TrainConfig, train_transformer

    out = args.out or ROOT / "runs" / f"position-finetune-{args.name}"
    out.mkdir(parents=True, exist_ok=True)
    pipeline = MusePipeline.from_dir(resolve_checkpoint(args.checkpoint))
    if args.text_positions:
        add_text_positions(pipeline.transformer, pipeline.config.text_encoder.max_length)
    captions = data_mod.load(args.work / "train_set.pt")["captions"]
    tokens = data_mod.load(args.work / "tokens.pt")
    t0 = time.perf_counter()
    tokens = data_mod.add_converse_captions(pipeline.text_encoder, tokens, captions)
    prep_s = time.perf_counter() - t0
    data = data_mod.token_data(tokens)
    config = TrainConfig(steps=args.steps, lr=args.lr, warmup=50, seed=args.seed, alt_caption_prob=args.converse_prob)
    t0 = time.perf_counter()
    transformer = train_transformer(pipeline.transformer.train(), data, config, out / "transformer")
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics = final_eval(pipeline.config, pipeline.vq, transformer, pipeline.text_encoder, out / "metrics.json",
                         args.eval_prompts, 0 if args.eval_prompts == 0 else 200)
    eval_s = time.perf_counter() - t0
    loss_csv = out / "transformer" / "loss.csv"  # absent with --steps 0 (the starting model's own scores)
    last_loss = loss_csv.read_text().strip().splitlines()[-1] if loss_csv.is_file() else None
    result = {
        "benchmark": "muse_position_finetune",
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": f"python benchmarks/muse_position_finetune.py --name {args.name} --converse-prob {args.converse_prob} "
                   f"--steps {args.steps} --lr {args.lr} --seed {args.seed} --eval-prompts {args.eval_prompts} --threads {args.threads}"
                   + (" --text-positions" if args.text_positions else ""),
        "start": str(args.checkpoint),
        "converse_prob": args.converse_prob,
        "text_positions": args.text_positions,
        "images_with_a_converse_caption": int((tokens["alt_index"] >= 0).sum()),
        "train": {"steps": args.steps, "lr": args.lr, "warmup": 50, "seed": args.seed, "batch_size": config.batch_size,
                  "last_loss_row": last_loss},
        "wall_s": {"captions": round(prep_s, 1), "train": round(train_s, 1), "eval": round(eval_s, 1)},
        "eval": metrics,
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": args.threads},
    }
    path = ROOT / "benchmarks" / "results" / f"muse_position_finetune_{args.name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"val": metrics["val"], "holdout": metrics.get("holdout")}, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
