"""Export, evaluate and package the ldm-shapes checkpoint (stages of recipes.ldm_shapes).

Evaluation is Muse's protocol (recipes.muse_shapes_eval): oracle all-correct accuracy on
balanced val prompts (`sample_prompts("val", n, 0)`, scored by `score_image`). The baseline gets
tuned on a small sweep before its final number, so that it is the best the checkpoint can do:
guidance at DPM-Solver++ 20 steps, then every scheduler x {10, 20, 50, 100} steps at that guidance;
the best point (fewest steps among ties) is re-measured per category on `eval_prompts`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from tqdm import tqdm

from musebench.cache.atomic import write_atomic, write_atomic_text, write_atomic_via

GUIDANCES = (1.0, 1.5, 3.0, 5.0)  # 1.0 = no guidance: on ldm-shapes guidance empties single-object images
SWEEP_STEPS = (10, 20, 50, 100)  # the head-to-head benchmark's step counts
SCHEDULER_ORDER = ("ddpm", "ddim", "dpmpp", "euler")
CURVE_SAMPLER = ("ddim", 20, 3.0)  # (scheduler, steps, guidance) of the accuracy curve during training


def export(directory: Path, config, vq, weights: dict, training: dict) -> None:
    from reference_model.ldm.checkpoint import save_checkpoint
    from reference_model.ldm.denoiser import build_denoiser

    denoiser = build_denoiser(config.denoiser)
    denoiser.load_state_dict(weights)
    save_checkpoint(directory, config, vq, denoiser, {"adapter": "ldm", "training": training})


def accuracy(pipe, records, params, batch: int = 64, desc: str = "") -> dict:
    """Oracle all-correct per category and overall for one sampler setting."""
    from musebench.shapes import score_image

    hits: dict[str, list[bool]] = {}
    for start in tqdm(range(0, len(records), batch), desc=desc, mininterval=10, leave=False):
        chunk = records[start:start + batch]
        images = pipe.generate([r.prompt for r in chunk], [r.index for r in chunk], params)
        for record, image in zip(chunk, images):
            hits.setdefault(record.tag, []).append(bool(score_image(image, record.scene).all_correct))
    everything = [h for v in hits.values() for h in v]
    out = {tag: sum(v) / len(v) for tag, v in sorted(hits.items())}
    return {"all_correct": sum(everything) / len(everything), "n": len(everything), **out}


def curve_evaluator(config, vq, n: int):
    """-> evaluate(weights, step) -> {"all_correct": ..., per category} on n fixed val prompts (the
    Muse run's curve protocol: sample_prompts("val", n, 0)), sampled with CURVE_SAMPLER."""
    from musebench.shapes import sample_prompts
    from reference_model.ldm.denoiser import build_denoiser
    from reference_model.ldm.pipeline import LDMPipeline
    from reference_model.ldm.sampler import SampleParams
    from reference_model.text_encoder import FrozenTextEncoder

    records, encoder = sample_prompts("val", n, 0), FrozenTextEncoder(config.text_encoder)

    def evaluate(weights: dict, step: int) -> dict[str, float]:
        denoiser = build_denoiser(config.denoiser)
        denoiser.load_state_dict(weights)
        pipe = LDMPipeline(config, vq, denoiser, encoder)
        scores = accuracy(pipe, records, SampleParams(*CURVE_SAMPLER), desc=f"curve@{step}")
        scores.pop("n")
        return scores

    return evaluate


def sweep(pipe, records) -> dict:
    from reference_model.ldm.sampler import SampleParams

    rows = []
    for g in GUIDANCES:
        rows.append({"scheduler": "dpmpp", "steps": 20, "guidance": g,
                     **accuracy(pipe, records, SampleParams("dpmpp", 20, g), desc=f"guidance {g}")})
    best_g = max(rows, key=lambda r: r["all_correct"])["guidance"]
    for name in SCHEDULER_ORDER:
        for steps in SWEEP_STEPS:
            if name == "dpmpp" and steps == 20:
                continue  # measured above
            rows.append({"scheduler": name, "steps": steps, "guidance": best_g,
                         **accuracy(pipe, records, SampleParams(name, steps, best_g), desc=f"{name} {steps}")})
    candidates = [r for r in rows if r["guidance"] == best_g]
    best = max(candidates, key=lambda r: (r["all_correct"], -r["steps"]))
    return {"rows": rows, "best": {k: best[k] for k in ("scheduler", "steps", "guidance")}}


def evaluate(checkpoint: Path, path: Path, sweep_prompts: int, eval_prompts: int) -> dict:
    """Sweep then final per-category eval -> metrics.json. Reused while the weights and prompt counts
    are unchanged; a new `eval_prompts` re-runs only the final eval at the same sweep's best point."""
    from musebench.shapes import sample_prompts
    from reference_model.ldm.pipeline import LDMPipeline
    from reference_model.ldm.sampler import SampleParams

    weights_hash = _sha256(checkpoint / "model.safetensors")
    cached = json.loads(path.read_text()) if path.is_file() else {}
    same_sweep = cached.get("weights_sha256") == weights_hash and cached.get("sweep_prompts") == sweep_prompts
    if same_sweep and cached.get("eval_prompts") == eval_prompts:
        return cached
    pipe = LDMPipeline.from_dir(checkpoint)
    result = ({"rows": cached["sweep"], "best": cached["best"]} if same_sweep
              else sweep(pipe, sample_prompts("val", sweep_prompts, 0)))
    b = result["best"]
    final = accuracy(pipe, sample_prompts("val", eval_prompts, 0), SampleParams(b["scheduler"], b["steps"], b["guidance"]),
                     desc="final eval")
    metrics = {"weights_sha256": weights_hash, "sweep_prompts": sweep_prompts, "sweep": result["rows"],
               "best": b, "final": final, "eval_prompts": eval_prompts}
    write_atomic_text(path, json.dumps(metrics, indent=2) + "\n")
    return metrics


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


MUSE_METRICS = ("metrics.json", "metrics_step4000.json")  # the finished run's, else the last saved one


def muse_metrics_path(muse_work: Path) -> Path | None:
    """The Muse run's final metrics file (metrics.json), else the step-4000 copy kept while it retrains."""
    for name in MUSE_METRICS:
        if (muse_work / name).is_file():
            return muse_work / name
    return None


def muse_metrics(muse_work: Path) -> dict | None:
    path = muse_metrics_path(muse_work)
    return json.loads(path.read_text()) if path else None


def flops_vs_muse(config) -> str:
    """One line: FLOPs per sampler step of this denoiser and of the matched Muse transformer."""
    from reference_model.config import TransformerConfig
    from reference_model.ldm.denoiser import build_denoiser
    from reference_model.ldm.flops import ldm_step_flops, muse_step_flops
    from reference_model.transformer import MaskedTransformer

    d, length = config.denoiser, config.text_encoder.max_length
    muse = TransformerConfig(vocab_size=config.vq.codebook_size, grid=d.grid, width=d.heads * d.head_dim,
                             depth=d.depth, heads=d.heads, text_dim=d.text_dim)
    ours, theirs = ldm_step_flops(build_denoiser(d), d, length), muse_step_flops(MaskedTransformer(muse), length)
    return (f"FLOPs per step and image (torch.utils.flop_counter, no guidance): denoiser {ours / 1e6:.1f} M, "
            f"Muse transformer {theirs / 1e6:.1f} M (ratio {ours / theirs:.3f})")


def same_tokenizer_as_shipped_muse(vq_sha256: str) -> str:
    """Whether the shipped muse-shapes checkpoint holds the tokenizer these latents came from."""
    from musebench.models.checkpoints import SHIPPED_DIR
    from recipes.ldm_shapes import vq_hash
    from reference_model.checkpoint import load_checkpoint

    shipped = SHIPPED_DIR / "muse-shapes"
    if not (shipped / "model.safetensors").is_file():
        return "muse-shapes is not shipped yet: tokenizer identity unchecked"
    same = vq_hash(load_checkpoint(shipped)[1]) == vq_sha256
    return "tokenizer identical to the shipped muse-shapes VQ" if same else \
        "WARNING: the shipped muse-shapes VQ differs from the tokenizer these latents came from; retrain"


def budgets(args) -> str:
    """Training budgets side by side: this run's wall and CPU time, the Muse transformer's wall time."""
    from reference_model import training_log

    ours = training_log.read_rows(args.work / "denoiser" / "loss.csv")
    muse = training_log.read_rows(args.muse_work / "transformer" / "loss.csv")
    line = ""
    if ours:
        line += (f"denoiser: {int(ours[-1]['step'])} steps, {ours[-1]['wall_s'] / 60:.1f} min wall, "
                 f"{ours[-1].get('cpu_s', float('nan')) / 60:.1f} min CPU")
    if muse:
        line += f"; Muse transformer: {int(muse[-1]['step'])} steps, {muse[-1]['wall_s'] / 60:.1f} min wall"
    return line or "no training log found"


def muse_table(muse_work: Path) -> dict[str, float]:
    """Muse's final val accuracy per category from its metrics.json, if it has one we can read."""
    metrics = muse_metrics(muse_work) or {}
    for candidate in (metrics.get("val"), metrics.get("final"), metrics):
        if isinstance(candidate, dict) and isinstance(candidate.get("all_correct"), (int, float)):
            return {k: v for k, v in candidate.items() if isinstance(v, (int, float))}
    return {}


def verdict(final: dict, muse: dict) -> str:
    """The fairness check of issue 4: within 0.05 all-correct of Muse on single_object?"""
    if "single_object" not in muse or "single_object" not in final:
        return "Muse's single_object accuracy is not available: fairness check not made."
    gap = muse["single_object"] - final["single_object"]
    if gap <= 0.05:
        return f"Fair opponent: single_object {final['single_object']:.3f} vs Muse {muse['single_object']:.3f} (gap {gap:.3f} <= 0.05)."
    return (f"**NOT a fair opponent yet**: single_object {final['single_object']:.3f} vs Muse {muse['single_object']:.3f} "
            f"(gap {gap:.3f} > 0.05). See the training curves (loss.png, loss.csv; accuracy: eval.csv) and the notes.")


def loss_weighting(args) -> str:
    if getattr(args, "head", "noise") == "codes":
        return "cross-entropy of the code logits (uniform t, no SNR weight)"
    return f"Min-SNR-{args.snr_gamma:g} loss weight" if args.snr_gamma > 0 else "unweighted MSE on the target"


def latent_lines(model: dict) -> str:
    """The card's latent and head lines (the two heads diffuse different latents)."""
    d, latent = model["denoiser"], model["latent"]
    shape = f"({d['latent_channels']}x{d['grid']}x{d['grid']})"
    decode = f"decode = `{latent['decode']}` (nearest code, then the Muse decoder)"
    if d.get("head", "noise") == "codes":
        return (f"- latent: the Muse tokens' codebook vectors (the VQ encoder output snapped to its nearest code, "
                f"unit norm), x{latent['scale']:.3f} {shape}; {decode}\n"
                f"- head: logits over the {d['codebook_size']} codes per position, x0 = their softmax-expectation over "
                f"the scaled codes (CDCD score interpolation, Dieleman et al. 2022), i.e. diffusion trained with Muse's loss")
    return (f"- latent: Muse VQ encoder output before quantisation, l2-normalised, x{latent['scale']:.3f}\n"
            f"  {shape}; {decode}")


def curve_note(args) -> str:
    name, steps, guidance = CURVE_SAMPLER
    return (f"{name}, {steps} steps, guidance {guidance:g}, {args.curve_prompts} val prompts; "
            f"Muse: 12 steps, {args.muse_work / 'transformer' / 'eval.csv'}")


def curve_table(args) -> str:
    """Markdown: all-correct and single_object at each curve step, this run beside the Muse run."""
    from reference_model import training_log

    ours = training_log.read_rows(args.work / "denoiser" / "eval.csv")
    muse = {int(r["step"]): r for r in training_log.read_rows(args.muse_work / "transformer" / "eval.csv")}
    if not ours:
        return "(no curve points: --eval-every 0)"
    cell = lambda row, key: f"{row[key]:.3f}" if row and key in row else "n/a"  # noqa: E731
    lines = ["| step | wall min | all-correct | single_object | Muse all-correct | Muse single_object |", "|---|---|---|---|---|---|"]
    for r in ours:
        m = muse.get(int(r["step"]))
        lines.append(f"| {int(r['step'])} | {r['wall_s'] / 60:.1f} | {cell(r, 'all_correct')} | {cell(r, 'single_object')} "
                     f"| {cell(m, 'all_correct')} | {cell(m, 'single_object')} |")
    return "\n".join(lines)


def card_text(args, checkpoint: Path, metrics: dict, argv: list[str]) -> str:
    from reference_model.ldm.checkpoint import read_document

    doc = read_document(checkpoint)
    training, model = doc["training"], doc["model"]
    d, n = model["denoiser"], model["noise"]
    final, best = metrics["final"], metrics["best"]
    sweep_lines = "\n".join(
        f"| {r['scheduler']} | {r['steps']} | {r['guidance']} | {r['all_correct']:.3f} |" for r in metrics["sweep"])
    cats = [k for k in final if k not in ("all_correct", "n")]
    muse = muse_table(args.muse_work)
    cell = lambda key: f"{muse[key]:.3f}" if key in muse else "n/a"  # noqa: E731
    from reference_model.ldm.checkpoint import read_config

    flops_line = flops_vs_muse(read_config(checkpoint))
    tokenizer_line = same_tokenizer_as_shipped_muse(training.get("vq_sha256", ""))
    return f"""# ldm-shapes: matched latent diffusion baseline of muse-shapes

Command (seed {args.seed}): `python -m recipes.ldm_shapes {' '.join(argv[1:])}`

- data: the Muse run's training set and caption encodings ({args.muse_work}); text encoder frozen MiniLM-L6
{latent_lines(model)}
- denoiser: diffusers PixArtTransformer2DModel, patch 1, {d['heads']} heads x {d['head_dim']}, depth {d['depth']}
- noise: {n['beta_schedule']}, {n['train_timesteps']} steps, **{n['prediction_type']}**, {loss_weighting(args)}, CFG dropout 10 %, EMA
- training: {training['steps']} steps of batch {args.batch_size}, lr {args.lr}, wall time {training['wall_s'] / 60:.1f} min
  ({args.threads} thread(s); tokenizer from {training['vq_source']}: {tokenizer_line})
- budgets: {budgets(args)}
- {flops_line}

## Oracle accuracy (val, {final['n']} prompts) at the best setting: {best['scheduler']}, {best['steps']} steps, guidance {best['guidance']}

| category | ldm-shapes | muse-shapes ({muse_metrics_path(args.muse_work)}) |
|---|---|---|
""" + "\n".join(f"| {c} | {final[c]:.3f} | {cell(c)} |" for c in cats) + f"""
| **all** | **{final['all_correct']:.3f}** | **{cell('all_correct')}** |

{verdict(final, muse)}

## Sweep ({metrics['sweep_prompts']} val prompts per point)

| scheduler | steps | guidance | all-correct |
|---|---|---|---|
{sweep_lines}

## Accuracy curve during training ({curve_note(args)})

{curve_table(args)}

Training curve: loss.png / loss.csv.
"""


def ship_config(checkpoint: Path, out: Path, best: dict) -> None:
    """out/config.json = checkpoint's, with the sweep's best setting as the sampler defaults, so a
    suite that names the checkpoint without sampler parameters measures the baseline at its best."""
    from reference_model.ldm.checkpoint import read_config

    document = json.loads((checkpoint / "config.json").read_text())
    document["model"]["sampler"] = {k: best[k] for k in ("scheduler", "steps", "guidance")}
    write_atomic(out / "config.json", (json.dumps(document, indent=2) + "\n").encode(), "--out")
    read_config(out)  # the shipped file must load: fails loudly here, not in a user's run


def package(args, checkpoint: Path, metrics: dict, argv: list[str]) -> None:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_atomic_via(out / "model.safetensors", lambda tmp: shutil.copyfile(checkpoint / "model.safetensors", tmp))
    ship_config(checkpoint, out, metrics["best"])
    for name in ("loss.csv", "loss.png", "eval.csv"):
        src = args.work / "denoiser" / name
        if src.is_file():
            shutil.copyfile(src, out / name)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_atomic_text(out / "CARD.md", card_text(args, checkpoint, metrics, argv))
