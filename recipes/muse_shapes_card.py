"""Package the trained reference Muse: checkpoint directory + training card (CARD.md).

The card is generated from the stage outputs (ceiling.json, metrics.json, timings.json, eval.csv),
so every number in it is one the command measured.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
from pathlib import Path

import torch

from musebench.cache.atomic import write_atomic_text
from musebench.shapes import CATEGORIES

TARGETS = {"single_object": 0.93, "colors": 0.93, "two_object": 0.70, "position": 0.70, "counting": 0.60,
           "color_attr": 0.60, "holdout": 0.70}


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _history_line(work: Path, command: str) -> str:
    """A training extended with a larger --steps is reproduced by running each recorded --steps in turn."""
    saved = json.loads((work / "run_config.json").read_text())
    history = saved.get("steps_history", [])
    if "finetune_added_after" in saved:  # the fine-tune came in a later run than the last --steps
        history = [*history, f"{saved['finetune_added_after']}` without `--finetune-steps"]
    if "relations_added_after" in saved:  # the relations stage in a run after that
        history = [*history, f"{saved['steps']}{_earlier_flags(saved, ('finetune',))}` without `--relation-steps"]
    if "binding_added_after" in saved:  # the binding stage in a run after the last of those
        history = [*history, f"{saved['steps']}{_earlier_flags(saved, ('finetune', 'relation'))}` without `--binding-steps"]
    if not history:
        return ""
    runs = ", then ".join(f"`--steps {n}`" for n in history)
    return (f"Extended training: the command ran first with {runs}, then as above; each later run continued "
            "from the earlier state.pt with the cosine schedule recomputed for the new total (a warm restart). "
            "Batches are a function of (seed, step), so running the same sequence reproduces this checkpoint.")


def _earlier_flags(saved: dict, stages: tuple[str, ...]) -> str:
    """The flags of `stages` ("finetune", "relation") that the run has, as typed (for the history line)."""
    flags = ""
    if "finetune" in stages and "finetune_steps" in saved:
        flags += f" --finetune-steps {saved['finetune_steps']} --finetune-lr {saved['finetune_lr']}"
    if "relation" in stages and "relation_steps" in saved:
        flags += f" --relation-steps {','.join(str(n) for n in saved['relation_steps'])}"
    return flags


def _finetune_line(args) -> str:
    if not args.finetune_steps:
        return ""
    shipped = "" if args.relation_steps or args.binding_steps else " (the weights shipped)"
    return (f"\nFine-tune{shipped}: {args.finetune_steps} more steps from the transformer above with a "
            f"fresh AdamW, 50 warm-up steps, peak lr {args.finetune_lr}, cosine to 0, batch stream seed {args.seed + 1} "
            "(work dir `finetune/`). The curve below is the training before it; the results are after it"
            + (" and the later stages." if args.relation_steps or args.binding_steps else "."))


def _relations_line(args) -> str:
    if not args.relation_steps:
        return ""
    from recipes.muse_shapes import RELATION_PHASES

    phases = "; ".join(
        f"{name}: {steps} steps, peak lr {lr}, position images as {' + '.join(forms)} captions"
        + (" after every image with its own caption" if everything else "")
        for (name, forms, everything), steps, lr in zip(RELATION_PHASES, args.relation_steps, args.relation_lr))
    shipped = "" if args.binding_steps else " (the weights shipped)"
    return (f"\nRelations stage{shipped}: a {args.relation_text_layers}-block text refiner "
            "(zero-initialised) added to the transformer, then three phases, each a fresh AdamW with 50 warm-up "
            f"steps and cosine decay (work dir `relations/`): {phases}. Why: "
            "benchmarks/results/muse_relation_probe_*.json.")


def _binding_line(args) -> str:
    if not args.binding_steps:
        return ""
    return (f"\nBinding stage (the weights shipped): {args.binding_steps} more steps on every image once plus each "
            f"color_attr image {args.binding_extra} more times, a fresh AdamW with 50 warm-up steps, peak lr "
            f"{args.binding_lr}, cosine to 0, batch stream seed {args.seed + 10} (work dir `binding/`). Why: "
            "benchmarks/results/muse_binding_exploration.json.")


def _curve_table(eval_csv: Path) -> str:
    from reference_model.training_log import read_rows

    rows = read_rows(eval_csv)
    if not rows:
        return "(no curve recorded)\n"
    cols = ["all_correct", *[c for c in CATEGORIES if c in rows[0]]]
    head = "| step | wall min | " + " | ".join(cols) + " |\n|" + "---|" * (len(cols) + 2) + "\n"
    body = "".join(
        f"| {int(r['step'])} | {r['wall_s'] / 60:.1f} | " + " | ".join(_pct(r.get(c)) for c in cols) + " |\n"
        for r in rows
    )
    return head + body


def _last_step(work: Path) -> int:
    from reference_model.training_log import read_rows

    rows = read_rows(work / "transformer" / "loss.csv")
    return int(rows[-1]["step"]) if rows else 0


def _results_table(metrics: dict, ceiling: dict) -> str:
    val, ho = metrics.get("val", {}), metrics.get("holdout", {})
    cv, ch = ceiling.get("val", {}).get("reconstruction", {}), ceiling.get("holdout", {}).get("reconstruction", {})
    lines = ["| prompts | generated (12 steps) | target | tokenizer ceiling | met |", "|---|---|---|---|---|"]
    for cat in CATEGORIES:
        got, target = val.get(cat), TARGETS[cat]
        met = "yes" if got is not None and got >= target else "no"
        lines.append(f"| val {cat} | {_pct(got)} | {_pct(target)} | {_pct(cv.get(cat))} | {met} |")
    lines.append(f"| val all | {_pct(val.get('all_correct'))} | | {_pct(cv.get('all_correct'))} | |")
    for cat in CATEGORIES:
        if cat in ho or cat in ch:
            lines.append(f"| holdout {cat} | {_pct(ho.get(cat))} | | {_pct(ch.get(cat))} | |")
    got = ho.get("all_correct")
    met = "yes" if got is not None and got >= TARGETS["holdout"] else "no"
    lines.append(f"| holdout all | {_pct(got)} | {_pct(TARGETS['holdout'])} | {_pct(ch.get('all_correct'))} | {met} |")
    return "\n".join(lines) + "\n"


def _refiner_words(config) -> str:
    layers = config.transformer.text_layers
    return f" + a trained {layers}-block text refiner (not in Muse)" if layers else ""


def write_card(args, config, out: Path, argv: list[str], n_params: dict) -> None:
    work = args.work
    ceiling, metrics, timings = _read_json(work / "ceiling.json"), _read_json(work / "metrics.json"), _read_json(work / "timings.json")
    total_min = sum(timings.values()) / 60
    training_min = sum(v for k, v in timings.items() if k != "eval") / 60  # eval: the final evaluations only
    command = "python -m recipes.muse_shapes " + " ".join(shlex.quote(a) for a in argv[1:])
    stats = ceiling.get("val", {})
    text = f"""# muse-shapes: the reference Muse trained on the shapes world

A small Muse (Chang et al. 2023): conv VQ tokenizer (32 px -> 8x8 tokens, K = {config.vq.codebook_size}),
frozen MiniLM-L6 text encoder{_refiner_words(config)}, masked transformer (width {config.transformer.width}, depth
{config.transformer.depth}, self-attn -> cross-attn -> MLP per block), MaskGIT/Muse sampler.
Parameters: {n_params['transformer']:,} transformer + {n_params['vq']:,} VQ (+ the frozen text encoder).

## Reproduce

```
{command}
```
Seed {args.seed}; data: {args.images:,} images of ShapesDataset(split="train", size=32, seed={args.seed})
(rendered once), captions encoded once. Machine: {platform.machine()} CPU, torch {torch.__version__},
{args.procs} training process(es) x {args.threads} thread(s) (wall times depend on the machine's load).
Tokenizer: {args.vq_steps} steps at batch {args.vq_batch}; transformer: {_last_step(work)} steps at batch
{args.batch_size}, peak lr {args.lr} (AdamW, warm-up + cosine to step {args.steps}).
{_history_line(work, command)}{_finetune_line(args)}{_relations_line(args)}{_binding_line(args)}

## Results (oracle all-correct, val seed 0 n = {metrics.get('val', {}).get('n', 'n/a')}, holdout n = {metrics.get('holdout', {}).get('n', 'n/a')})

Sampler: {metrics.get('steps', 12)} steps, guidance {config.sampler.guidance} ({config.sampler.guidance_schedule}),
choice temperature {config.sampler.temperature}; one seed per prompt (its index).

{_results_table(metrics, ceiling)}
Tokenizer (val renders): PSNR {stats.get('psnr_db', float('nan')):.1f} dB, codebook perplexity
{stats.get('perplexity', float('nan')):.0f}, codes used {stats.get('codes_used', 'n/a')} of {config.vq.codebook_size};
oracle on the real renders {_pct(stats.get('real', {}).get('all_correct'))}, on their reconstructions
{_pct(stats.get('reconstruction', {}).get('all_correct'))} (the ceiling of any generator on these tokens).

## Accuracy vs training time ({args.curve_prompts} val prompts per point, 12 steps)

{_curve_table(work / 'transformer' / 'eval.csv')}
## Wall time (minutes, this machine)

""" + "".join(f"- {k}: {v / 60:.1f}\n" for k, v in timings.items()) + (
        f"- training stages (all but eval): {training_min:.1f}\n- total: {total_min:.1f}\n")
    write_atomic_text(out / "CARD.md", text)


def package(args, config, vq, transformer, argv: list[str]) -> None:
    from reference_model.checkpoint import save_checkpoint
    from reference_model.transformer import count_parameters

    n_params = {"transformer": count_parameters(transformer), "vq": count_parameters(vq)}
    args.out.mkdir(parents=True, exist_ok=True)
    write_card(args, config, args.out, argv, n_params)  # the card first: no checkpoint without one
    training = {"command": "python -m recipes.muse_shapes " + " ".join(argv[1:]), "seed": args.seed,
                "images": args.images, "steps": args.steps, "finetune_steps": args.finetune_steps,
                "relation_steps": list(args.relation_steps), "binding_steps": args.binding_steps,
                "batch_size": args.batch_size, "procs": args.procs,
                "metrics": _read_json(args.work / "metrics.json"), "timings_s": _read_json(args.work / "timings.json")}
    save_checkpoint(args.out, config, vq, transformer, {"adapter": "muse", "training": training})
    copy_training_logs(args.work, args.out / "training")


def copy_training_logs(work: Path, dest: Path, stages: tuple[str, ...] = ("transformer", "finetune", "binding")) -> list[str]:
    """The work dir's records (run config, timings, ceiling and eval JSONs, loss/eval curves) into
    `dest`, replacing what an earlier packaging left there, so the logs shipped beside a checkpoint
    are always those of its weights (state files stay behind: they are not part of a checkpoint)."""
    named = [(p, p.name) for p in sorted(work.glob("*.json"))]
    folders = [(stages[0], ""), ("vq", "")] + [(stage, f"{stage}_") for stage in stages[1:]]
    folders += [(f"relations/{p.name}", f"relations_{p.name}_") for p in sorted((work / "relations").glob("*"))]
    for folder, prefix in folders:
        named += [(p, prefix + p.name) for p in sorted((work / folder).glob("*")) if p.suffix in (".csv", ".png")]
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for path, name in named:
        shutil.copy2(path, staging / name)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(staging, dest)  # a folder swap (rename of a directory), not a file write: atomic_file does files
    return [name for _, name in named]
