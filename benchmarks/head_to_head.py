"""Muse vs the matched latent diffusion baseline: latency, FLOPs and oracle accuracy per setting.

    python benchmarks/head_to_head.py                 # writes benchmarks/results/head_to_head.{json,md}
    python benchmarks/head_to_head.py --prompts 24    # a quicker look

Points: Muse at 4/8/12/16/24 steps (its default guidance) against each diffusers scheduler
(ddpm, ddim, dpmpp, euler) at 10/20/50/100 steps (the guidance the ldm-shapes card found best).
For each point, through the same adapters `musebench run` uses:
- batch 64: one timed `generate` of the first 64 balanced val prompts (seeds = prompt index);
  these images are also the ones scored by the oracle (all-correct, Wilson 95 % interval), so
  accuracy costs no extra generation; ms/image = wall / batch;
- batch 1: median of `--reps` timed single-prompt calls after one warm-up;
- FLOPs per image: the adapter's describe() (FlopCounterMode over a whole one-image run), and the
  share of the generative network (denoiser or masked transformer calls x FLOPs per call).
Speed-up at matched accuracy: the rule of musebench.report.matched, the same as the report's
(`--margin`, default 0.02): for Muse and for the diffusion model (all its schedulers and steps one
family), the most accurate point, the points equivalent to it by a paired TOST on the same prompts
(Holm-adjusted), and the fastest of those; the claim holds only when the two chosen points are
equivalent within the margin or Muse is better, else the note says "not established at N=...".
The batch-1 ratio's interval is an unpaired bootstrap of the ratio of median repeat times. Threads,
load average and machine go into the JSON: these are CPU timings on a shared machine.
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

from musebench.report.matched import DEFAULT_MARGIN, Point, match, sample_size
from musebench.report.matched import RULE as MATCHED_RULE

OUT = Path(__file__).resolve().parent / "results" / "head_to_head"
MUSE_STEPS = (4, 8, 12, 16, 24)
LDM_SCHEDULERS = ("ddpm", "ddim", "dpmpp", "euler")
LDM_STEPS = (10, 20, 50, 100)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--muse", default="muse-shapes", help="Muse checkpoint name or dir")
    p.add_argument("--ldm", default="ldm-shapes", help="LDM checkpoint name or dir")
    p.add_argument("--prompts", type=int, default=64, help="val prompts = the timed batch (<= 64 is batch 64)")
    p.add_argument("--reps", type=int, default=3, help="timed batch-1 calls per point")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--muse-steps", type=int, nargs="+", default=list(MUSE_STEPS))
    p.add_argument("--ldm-steps", type=int, nargs="+", default=list(LDM_STEPS))
    p.add_argument("--schedulers", nargs="+", default=list(LDM_SCHEDULERS))
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="equivalence margin, accuracy as a fraction")
    p.add_argument("--out", type=Path, default=OUT, help="output path without extension")
    return p.parse_args()


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def measure(adapter, params: dict, records, reps: int) -> dict:
    from musebench.metrics.intervals import wilson_interval
    from musebench.results import item_key
    from musebench.shapes import score_image

    prompts, seeds = [r.prompt for r in records], [r.index for r in records]
    wall, images = timed(lambda: adapter.generate(prompts, seeds, params))
    hits = [bool(score_image(im, r.scene).all_correct) for im, r in zip(images, records)]
    by_tag: dict[str, list[bool]] = {}
    for r, h in zip(records, hits):
        by_tag.setdefault(r.tag, []).append(h)
    adapter.generate(prompts[:1], seeds[:1], params)  # warm-up for batch 1
    b1 = [timed(lambda: adapter.generate(prompts[:1], seeds[:1], params))[0] for _ in range(reps)]
    described = adapter.describe(params)
    k, n = sum(hits), len(hits)
    return {
        "ms_per_image_b1": 1000 * statistics.median(b1),
        f"ms_per_image_b{n}": 1000 * wall / n,
        "flops_per_image": described["flops_per_image"],
        # the denoiser / masked transformer alone (the rest: text encoder and decoder, paid once)
        "network_flops_per_image": described["flops_per_image"] - described.get("other_flops_per_image", 0),
        "all_correct": k / n, "ci95": list(wilson_interval(k, n)), "n": n,
        "per_category": {t: sum(v) / len(v) for t, v in sorted(by_tag.items())},
        # per image "<prompt index>/<seed>" (seed = prompt index): the matched-accuracy test pairs on them
        "items": {item_key(r.index, r.index): float(h) for r, h in zip(records, hits)},
        "ms_b1_repeats": [1000 * t for t in b1],
    }


def _point(row: dict) -> Point:
    """A measured row as the matched-quality rule reads it (rows written before items were kept: none)."""
    repeats = row.get("ms_b1_repeats")
    return Point(label=row["label"], quality=row["all_correct"], n=row["n"], items=row.get("items"),
                 ms=row["ms_per_image_b1"], ms_repeats=tuple(repeats) if repeats else None)


def matched_speedup(rows: list[dict], batch_key: str, margin: float = DEFAULT_MARGIN) -> dict:
    """Muse vs the diffusion model at matched accuracy, by the report's rule (musebench.report.matched)."""
    by_label = {r["label"]: r for r in rows}
    muse = [_point(r) for r in rows if r["model"] == "muse"]
    diffusion = [_point(r) for r in rows if r["model"] == "ldm"]
    if not muse or not diffusion:
        return {"rule": MATCHED_RULE.format(margin=margin), "margin": margin, "verdict": "not established",
                "note": "not established: need points of both Muse and the diffusion model"}
    found = match(muse, diffusion, margin)
    ref, other = by_label[found.reference.chosen.label], by_label[found.other.chosen.label]
    test = found.verdict.test
    result = {
        "rule": MATCHED_RULE.format(margin=margin), "margin": margin,
        "n": sample_size(found.other.chosen, found.reference.chosen),
        "muse": ref["label"], "diffusion": other["label"],
        "muse_best": found.reference.best.label, "diffusion_best": found.other.best.label,
        "muse_tied": [p.label for p in found.reference.tied], "diffusion_tied": [p.label for p in found.other.tied],
        "accuracy": [other["all_correct"], ref["all_correct"]],  # [diffusion, Muse]
        "verdict": found.verdict.status, "note": found.verdict.text,
        "diff_ci90": list(test.ci90) if test else None, "test": test.method if test else None,
    }
    if found.ratio is not None:
        result.update({
            "speedup_b1": found.ratio.value, "speedup_b1_ci95": list(found.ratio.ci95) if found.ratio.ci95 else None,
            "speedup_b1_method": found.ratio.method,
            f"speedup_{batch_key}": other[f"ms_per_image_{batch_key}"] / ref[f"ms_per_image_{batch_key}"],
            "flops_ratio": other["flops_per_image"] / ref["flops_per_image"],
        })
    return result


def markdown(result: dict) -> str:
    bk = result["batch_key"]
    lines = [
        "# Head to head: Muse vs the matched latent diffusion baseline (shapes world, 32 px)", "",
        f"CPU, {result['threads']} thread(s), load average at start {result['loadavg_start']}, "
        f"{result['prompts']} balanced val prompts per point (the timed batch). Written by benchmarks/head_to_head.py"
        + ("." if result["complete"] else f"; STOPPED EARLY: {len(result['rows'])} of {result['planned_points']} points."), "",
        f"| model | sampler | steps | ms/img b1 | ms/img {bk} | GFLOPs/img | of which network | all-correct (95 % CI) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['model']} | {r['sampler']} | {r['steps']} | {r['ms_per_image_b1']:.1f} | {r['ms_per_image_' + bk]:.1f} | "
            f"{r['flops_per_image'] / 1e9:.2f} | {r['network_flops_per_image'] / 1e9:.2f} | "
            f"{r['all_correct']:.3f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}] |")
    s = result["speedup"]
    lines.append("")
    if s.get("speedup_b1") is not None:
        ci = s["speedup_b1_ci95"]
        ci_text = f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else ""
        lines.append(
            f"**Speed-up at matched accuracy**: {s['muse']} ({s['accuracy'][1]:.3f}) vs the diffusion setting "
            f"{s['diffusion']} ({s['accuracy'][0]:.3f}), {s['note']}: {s['speedup_b1']:.1f}x{ci_text} at batch 1 "
            f"({s['speedup_b1_method']}), {s['speedup_' + bk]:.1f}x at {bk}, {s['flops_ratio']:.1f}x fewer FLOPs per image.")
    else:
        lines.append(f"**Speed-up at matched accuracy**: {s['note']}.")
    lines += ["", s["rule"]]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    from tqdm import tqdm

    from musebench.models.registry import load_adapter
    from musebench.shapes import sample_prompts

    records = sample_prompts("val", args.prompts, 0)
    muse, ldm = load_adapter("muse", args.muse), load_adapter("ldm", args.ldm)
    guidance = ldm.defaults()["guidance"]
    points = [("muse", muse, "maskgit", s, {"steps": s}) for s in args.muse_steps]
    points += [("ldm", ldm, sch, s, {"scheduler": sch, "steps": s, "guidance": guidance})
               for sch in args.schedulers for s in args.ldm_steps]
    load = os.getloadavg()
    batch_key = f"b{len(records)}"
    base = {
        "batch_key": batch_key, "prompts": len(records), "threads": args.threads,
        "loadavg_start": [round(x, 2) for x in load], "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__, "models": {"muse": muse.describe({}), "ldm": ldm.describe({})},
        "planned_points": len(points),
    }
    rows: list[dict] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for model, adapter, sampler, steps, params in tqdm(points, desc="head to head"):
        row = {"model": model, "sampler": sampler, "steps": steps, "params": params, "label": f"{model} {sampler} {steps}"}
        rows.append({**row, **measure(adapter, params, records, args.reps)})
        # rewritten after every point: a run stopped early still leaves the points it measured
        result = {**base, "rows": rows, "complete": len(rows) == len(points),
                  "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
        if any(r["model"] == "ldm" for r in rows):
            result["speedup"] = matched_speedup(rows, batch_key, args.margin)
            write_atomic(args.out.with_suffix(".md"), markdown(result))
        write_atomic(args.out.with_suffix(".json"), json.dumps(result, indent=2) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
