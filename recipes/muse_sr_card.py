"""Package the super-resolution stage: checkpoint directory + CARD.md, every number from the stage
outputs (metrics.json, timings.json) of the command that trained it."""

from __future__ import annotations

import platform
import shlex
from pathlib import Path

import torch

from musebench.cache.atomic import write_atomic_text
from recipes.muse_shapes_card import _pct, _read_json, copy_training_logs


def _row(name: str, scores: dict, note: str = "") -> str:
    return f"| {name} | {_pct(scores.get('all_correct'))} | {note} |\n"


def _psnr_line(metrics: dict) -> str:
    per = metrics.get("psnr_db_per_image")
    if not per:
        return ""

    def cell(key: str) -> str:
        lo, hi = per[key]["ci95"]
        return f"{per[key]['mean']:.2f} dB [{lo:.2f}, {hi:.2f}]"

    return ("Detail against a ground truth (the real 64 px render; per image, mean [95 % bootstrap interval], n = "
            f"{per['stage_on_real_tokens']['n']}): the stage on the 32 px render's tokens {cell('stage_on_real_tokens')}, "
            f"bicubic 2x of that render {cell('bicubic_of_real_32')}, paired difference {cell('stage_minus_bicubic')}.")


def write_card(args, config, out: Path, command: str, n_params: dict, metrics: dict, timings: dict) -> None:
    training_min = sum(v for k, v in timings.items() if k != "eval") / 60
    t, low = config.transformer, config.lowres
    table = ("| images (val, n = {n}) | oracle all-correct | |\n|---|---|---|\n".format(n=metrics.get("n"))
             + _row("real renders, 64 px", metrics.get("real_64", {}), "the oracle's ceiling")
             + _row("64 px tokenizer reconstructions", metrics.get("reconstruction_64", {}),
                    f"ceiling of any generator on these tokens; PSNR {metrics.get('reconstruction_64_psnr_db', float('nan')):.1f} dB")
             + _row("stage on the base tokenizer's tokens of the 32 px renders", metrics.get("stage_on_real_tokens", {}),
                    f"PSNR {metrics.get('stage_on_real_tokens_psnr_db', float('nan')):.1f} dB against the 64 px renders "
                    f"(bicubic of the 32 px renders: {metrics.get('bicubic_of_real_32_psnr_db', float('nan')):.1f} dB)")
             + _row("base model, 32 px", metrics.get("base_32", {}), f"{metrics.get('base_steps')} steps, its shipped sampler")
             + _row("cascade: base tokens -> this stage, 64 px", metrics.get("cascade_64", {}), "")
             + _row("base model, bicubic 2x, 64 px", metrics.get("bicubic_64", {}), "the baseline"))
    text = f"""# muse-sr: Muse's super-resolution stage on the shapes world (32 -> 64 px)

Muse's second stage (Chang et al. 2023 §2.4), scaled down: a masked transformer over the 16x16 tokens of
a 64 px tokenizer, conditioned on the text and on the base model's 8x8 tokens (`{args.base}`): the low-res
tokens go through {low.layers} self-attention blocks and are concatenated with the text states as the
cross-attention context (Muse), and each high-res position's input also gets its low-res token's embedding
(nearest 2x; not in Muse, reference_model/super_res.py says why). Width {t.width}, depth {t.depth}, {t.heads} heads.
Parameters: {n_params['sr']:,} stage + {n_params['vq']:,} tokenizer (+ the base model's frozen text encoder).
Sampler default: {config.sampler.steps} steps, no guidance, choice temperature {config.sampler.temperature}, token
temperature {config.sampler.token_temperature} (0: each token the argmax of its logits).

## Reproduce

```
{command}
```
Seed {args.seed}; data: {args.images:,} scenes of ShapesDataset(split="train", seed={args.seed}) rendered at 32 and
64 px. Tokenizer: the base tokenizer's weights fine-tuned at 64 px for {args.vq_steps} steps at batch {args.vq_batch},
lr {args.vq_lr}. Stage: {args.steps} steps at batch {args.batch_size}, peak lr {args.lr} (AdamW, warm-up + cosine),
the base model's masking loss (reference_model/training.py) on the 64 px tokens. Machine: {platform.machine()} CPU,
torch {torch.__version__}, {args.procs} process(es) x {args.threads} thread(s).

## Results (recipes/muse_sr_eval.py; one seed per prompt, its index)

{table}
{_psnr_line(metrics)}

These are the training's check on {metrics.get('n')} prompts; `suites/cascade_sr.yaml` measures the cascade
with intervals on more (reports/cascade_sr/).

## Wall time (minutes, this machine)

""" + "".join(f"- {k}: {v / 60:.1f}\n" for k, v in timings.items()) + f"- training stages (all but eval): {training_min:.1f}\n"
    write_atomic_text(out / "CARD.md", text)


def base_name(base: Path) -> str:
    """The base checkpoint as the cascade adapter finds it: a bundled checkpoint's name, else the path."""
    from musebench.models.checkpoints import SHIPPED_DIR

    return base.resolve().name if base.resolve().parent == SHIPPED_DIR else str(base.resolve())


def package(args, config, vq, sr, metrics: dict, argv: list[str]) -> None:
    from reference_model.sr_checkpoint import save_sr_checkpoint
    from reference_model.transformer import count_parameters

    command = "python -m recipes.muse_sr " + " ".join(shlex.quote(a) for a in argv[1:])
    timings = _read_json(args.work / "timings.json")
    args.out.mkdir(parents=True, exist_ok=True)
    write_card(args, config, args.out, command, {"sr": count_parameters(sr), "vq": count_parameters(vq)}, metrics,
               timings)  # the card first: no checkpoint without one
    training = {"command": command, "seed": args.seed, "base": base_name(args.base), "images": args.images,
                "vq_steps": args.vq_steps, "steps": args.steps, "batch_size": args.batch_size, "procs": args.procs,
                "metrics": metrics, "timings_s": timings}
    save_sr_checkpoint(args.out, config, vq, sr, {"adapter": "muse-cascade", "training": training})
    copy_training_logs(args.work, args.out / "training", stages=("sr",))
