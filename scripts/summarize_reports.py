#!/usr/bin/env python3
"""Answer reports/README.md's four questions from the committed run files; write reports/SUMMARY.md.

    python scripts/summarize_reports.py [--reports reports] [--out reports/SUMMARY.md]

Reads only reports/<report>/runs/<suite>/results.jsonl (what scripts/make_reports.sh copies there,
with its run.json and items.jsonl when present),
so the answers are regenerated with the figures and never typed by hand:
  1. speed-up at matched quality (head_to_head): the rule of musebench.report.matched, the
     one the report's speed-up table and benchmarks/head_to_head.py use. Two families, Muse (the
     points without a `scheduler`) and diffusion (every ldm scheduler x steps point): each one's
     best point (highest oracle accuracy), the points equivalent to it by TOST within the suite's
     report.equivalence_margin (Holm over the family), and the fastest of those; Muse matches when
     its chosen point is equivalent to diffusion's within the margin, or better. Only then is a
     speed-up stated: diffusion time / Muse time with its interval; else "not established at
     N=..., margin ..." (or "worse"). FID is shown beside each point, never used to choose. Time is
     in units of the matmul calibration timed right before each call (`latency/ratio`) when every
     point has it, else batch-1 ms: on a shared machine a point timed while another job ran has
     inflated ms, and its calibration alike. Per-item outcomes (RUN_DIR/items.jsonl, results
     schema 2) make the accuracy tests paired; the margin is read from RUN_DIR/run.json. The same rule
     again at batch N (latency/ms_per_image_bN, when the run timed one) and per prompt category
     (oracle/<category> in place of oracle/all_correct, the category's prompts alone).
  2. FID (or KID, when the run has no FID) vs CLIP score over guidance (guidance_sweep): every point,
     and the points on the trade-off front (no other point has both a lower distance and a higher CLIP
     score), as in Muse Fig. 8.
  3. where more steps stop helping (steps_sweep): per metric, the fewest steps whose 95 % interval
     contains the best value of the sweep (the report's saturation table uses the same rule).
  4. is Muse's confidence calibrated in and out of distribution (calibration/: val, hold-out,
     perturbed captions): each condition's ECE, Brier and AUROC rows with their intervals, and the
     out-of-distribution gap test of musebench.report.calibration (the page's own rule), recomputed
     from the runs' items.jsonl.
Missing runs are reported as missing, not skipped silently.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# musebench.report.matched is the one home of the matched-quality rule (the report package it lives
# in is imported with it, so the report's own run.json margin reader costs nothing more)
from musebench.report import labels, pareto
from musebench.report.data import Run
from musebench.report.matched import DEFAULT_MARGIN, RULE, Matched, Point, claim, match, sample_size
from musebench.results import ITEMS_FILE, RUN_FILE
from musebench.shapes import CATEGORIES  # GenEval's task tags, the shapes world's prompt categories
from musebench.results.items import read_items_file

REPO = Path(__file__).resolve().parents[1]
ACC, FID, KID, CLIP, LAT = "oracle/all_correct", "fid/probe", "kid/probe", "clip_score/probe", "latency/ms_per_image_b1"
RATIO = "latency/ratio"  # batch-1 time / a matmul timed right before it, same run (musebench.metrics.latency)


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def points(rows: list[dict]) -> dict[tuple[str, str], dict]:
    """(model, params json) -> {"model", "params", metric -> row}."""
    out: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["model"], json.dumps(row["params"], sort_keys=True))
        out.setdefault(key, {"model": row["model"], "params": row["params"]})[row["metric"]] = row
    return out


def label(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or "defaults"


def fmt(row: dict | None, digits: int = 3, scale: float = 1.0) -> str:
    if row is None:
        return "n/a"
    ci = row.get("ci95")
    value = f"{row['value'] * scale:.{digits}f}"
    return f"{value} [{ci[0] * scale:.{digits}f}, {ci[1] * scale:.{digits}f}]" if ci else value


KID_SCALE = 1000.0  # KID on probe features is ~1e-5 to 1e-3: printed x 10^3, as papers print it


def lo(row: dict) -> float:
    return row["ci95"][0] if row.get("ci95") else row["value"]


def hi(row: dict) -> float:
    return row["ci95"][1] if row.get("ci95") else row["value"]


def read_margin(run_dir: Path | None) -> float:
    """The run's declared equivalence margin (run.json: suite.report.equivalence_margin), read and
    checked by the report's own reader; the rule's default when the run has no run.json."""
    if run_dir is None or not (run_dir / RUN_FILE).is_file():
        return DEFAULT_MARGIN
    run_json = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    return pareto.margins([Run(label="run", run_dir=run_dir, run_json=run_json, images=())])["run"]


@functools.lru_cache(maxsize=None)  # the headline and §1 read the same run's items (megabytes): once
def read_point_items(run_dir: Path | None) -> dict[tuple[str, str, str], dict[str, float]]:
    """(model, params key, metric) -> per-item outcomes, from RUN_DIR/items.jsonl (results schema 2)."""
    if run_dir is None or not (run_dir / ITEMS_FILE).is_file():
        return {}
    return {key: items for key, (_, items) in read_items_file(run_dir / ITEMS_FILE).items()}


def to_point(p: dict, cost: str, items: dict, quality: str = ACC) -> Point:
    """One sweep point of this script's `points` as a musebench.report.matched Point: accuracy with its
    n and per-image outcomes (when kept), time (`cost`) with its interval and per-repeat values."""
    key = json.dumps(p["params"], sort_keys=True, separators=(",", ":"))
    acc, time = p[quality], p[cost]
    repeats = items.get((p["model"], key, cost))
    return Point(label=f"{p['model']} {label(p['params'])}", quality=float(acc["value"]),
                 n=int(acc["n"]) if acc.get("n") else None, items=items.get((p["model"], key, quality)),
                 ms=float(time["value"]), ms_ci=tuple(time["ci95"]) if time.get("ci95") else None,
                 ms_repeats=tuple(repeats.values()) if repeats else None)


def batch_cost(pts: list[dict]) -> str | None:
    """The batch-N per-image time every point has (latency/ms_per_image_b64), None when not timed."""
    found = {m for p in pts for m in p if labels.BATCH_LATENCY.fullmatch(m) and m != LAT}
    found = sorted((m for m in found if all(m in p for p in pts)), key=lambda m: int(labels.BATCH_LATENCY.fullmatch(m).group(1)))
    return found[-1] if found else None


@dataclass(frozen=True)
class HeadToHead:
    """What §1 and the headline read from one head-to-head run: the points, the time used, the margin."""

    pts: list[dict]
    muse: list[dict]
    diffusion: list[dict]
    cost: str  # latency/ratio (batch 1 over the same-run calibration) or latency/ms_per_image_b1
    unit: str
    batch: str | None  # latency/ms_per_image_bN, when every point has it
    margin: float
    items: dict

    def matched(self, quality: str, time: str) -> Matched:
        """The rule of musebench.report.matched: Muse (reference) against every diffusion scheduler x steps."""
        return match([to_point(p, time, self.items, quality) for p in self.muse],
                     [to_point(p, time, self.items, quality) for p in self.diffusion], self.margin)


def ceiling_models(run_dir: Path | None) -> set[str]:
    """The run's `real` models (run.json; the report's own rule, pareto.ceilings): the accuracy ceiling,
    not a generator to compare speed with."""
    if run_dir is None or not (run_dir / RUN_FILE).is_file():
        return set()
    run_json = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    return {model for _, model in pareto.ceilings([Run(label="run", run_dir=run_dir, run_json=run_json, images=())])}


def head_to_head(rows: list[dict], run_dir: Path | None) -> HeadToHead | None:
    real = ceiling_models(run_dir)
    pts = [p for p in points(rows).values() if ACC in p and LAT in p and p["model"] not in real]
    diffusion = [p for p in pts if "scheduler" in p["params"]]
    muse = [p for p in pts if "scheduler" not in p["params"]]
    if not diffusion or not muse:
        return None
    # time in units of the same-run matmul calibration when every point has it: on a shared machine a
    # point timed while another job ran has inflated milliseconds, and its calibration inflates alike
    cost = RATIO if all(RATIO in p for p in pts) else LAT
    unit = "x the calibration matmul" if cost == RATIO else "ms/image"
    return HeadToHead(pts, muse, diffusion, cost, unit, batch_cost(pts), read_margin(run_dir), read_point_items(run_dir))


def headline_section(rows: list[dict], run_dir: Path | None = None) -> list[str]:
    h = head_to_head(rows, run_dir)
    if h is None:
        return ["Not answerable: the run lacks Muse or diffusion points with oracle accuracy and latency."]
    m = h.matched(ACC, h.cost)
    n = sample_size(m.other.chosen, m.reference.chosen)
    def said(found: Matched, where: str) -> str:
        if found.ratio is None:
            return f"no speed-up at matched oracle accuracy is claimed at {where}: {claim(found)}"
        return f"Muse is {claim(found)} as fast as latent diffusion at matched oracle accuracy at {where}"

    line = f"**{said(m, 'batch 1')}**"
    if h.batch:
        line += f"; **{said(h.matched(ACC, h.batch), labels.name(h.batch).replace('latency at ', ''))}**"
    line += (f" (N = {n} paired val prompts, margin ±{h.margin:g} in accuracy; compared: {m.other.chosen.label} "
             f"against {m.reference.chosen.label}, chosen by the rule in §1; 95 % intervals).")
    return [line]


def speedup_section(rows: list[dict], run_dir: Path | None = None) -> list[str]:
    h = head_to_head(rows, run_dir)
    if h is None:
        return ["Not answerable: the run lacks Muse or diffusion points with oracle accuracy and latency."]
    pts, cost, unit, margin, matched, batch = h.pts, h.cost, h.unit, h.margin, h.matched, h.batch
    m = matched(ACC, cost)
    lines = [RULE.format(margin=f"{margin:g}"),
             f"Margin ±{margin:g} in oracle accuracy (fraction correct), the suite's report.equivalence_margin "
             f"(default {DEFAULT_MARGIN:g} when it declares none); N = {sample_size(m.other.chosen, m.reference.chosen)} "
             f"images per compared pair; time = batch-1 {unit} ({cost}); FID is shown, not used to choose.", ""]
    d = m.other
    tied = [q.label for q in d.tied if q is not d.best]
    lines.append(f"- Diffusion (every scheduler x steps): best {d.best.label} (accuracy {d.best.quality:.3f}, time {d.best.ms:.1f}); "
                 f"equivalent to it: {', '.join(tied) if tied else 'none shown'}; "
                 f"chosen (fastest of those): **{d.chosen.label}** (accuracy {d.chosen.quality:.3f}, time {d.chosen.ms:.1f}).")
    r = m.reference
    lines.append(f"- Muse: settings shown not worse than that point by more than {margin:g}: "
                 f"{', '.join(q.label for q in r.tied) if m.ratio is not None else 'none'}; "
                 f"chosen (the fastest): **{r.chosen.label}** (accuracy {r.chosen.quality:.3f}, time {r.chosen.ms:.1f}).")
    lines.append(f"- Verdict, Muse (the reference) - diffusion at the chosen points: {m.verdict.text}.")
    if m.ratio is not None:
        slower = "" if m.ratio.value >= 1 else f"; below 1: Muse is {1 / m.ratio.value:.2f}x slower"
        lines.append(f"**Speed-up at matched oracle accuracy, diffusion time / Muse time: {claim(m)}** "
                     f"({m.other.chosen.label} / {m.reference.chosen.label}, batch-1 {unit}, same machine, same run{slower}; "
                     f"interval: {m.ratio.method}).")
    else:
        lines.append(f"**No speed-up at matched oracle accuracy is claimed: {claim(m)}.**")
    costs = [(cost, f"batch 1 ({unit})")] + ([(batch, labels.name(batch).replace("latency at ", "") + " (ms/image)")] if batch else [])
    if batch:
        mb = matched(ACC, batch)
        lines.append(f"- At {costs[1][1]}, the same rule: {claim(mb)} ({mb.other.chosen.label} / {mb.reference.chosen.label}).")
    categories = [c for c in CATEGORIES if all(f"oracle/{c}" in p for p in pts)]
    if categories:
        lines += ["", "Per prompt category (the rule applied again on each category's prompts alone: its own best points "
                  "and tests, so the chosen settings can differ):", "",
                  "| category | N | " + " | ".join(f"speed-up at {name}" for _, name in costs) + " | chosen (diffusion / Muse, batch 1) |",
                  "|---|---|" + "---|" * len(costs) + "---|"]
        for c in categories:
            found = [matched(f"oracle/{c}", time) for time, _ in costs]
            first = found[0]
            lines.append(f"| {c} | {sample_size(first.other.chosen, first.reference.chosen)} | "
                         + " | ".join(claim(f) for f in found) + f" | {first.other.chosen.label} / {first.reference.chosen.label} |")
    lines += ["", "| model | setting | oracle accuracy [95 %] | FID (probe) [95 %] | FID floor (real vs real, same N) | ms/image b1 | "
              "time / calibration | images/s |" + (f" ms/image {batch.rsplit('_', 1)[-1]} |" if batch else ""),
              "|---|---|---|---|---|---|---|---|" + ("---|" if batch else "")]
    for p in sorted(pts, key=lambda p: (p["model"], p[cost]["value"])):
        ips, rel = p.get("latency/images_per_s"), p.get(RATIO)
        rel_text = f"{rel['value']:.1f}" if rel else "n/a"
        ips_text = f"{ips['value']:.1f}" if ips else "n/a"
        floor = (p.get(FID) or {}).get("extra", {}).get("floor")
        floor_text = f"{floor:.3f}" if isinstance(floor, (int, float)) else "n/a"
        lines.append(f"| {p['model']} | {label(p['params'])} | {fmt(p[ACC])} | {fmt(p.get(FID))} | {floor_text} | {p[LAT]['value']:.1f} | "
                     f"{rel_text} | {ips_text} |" + (f" {p[batch]['value']:.1f} |" if batch else ""))
    return lines


def guidance_note(run_dir: Path | None) -> list[str]:
    """Runs made before the one guidance convention (their run.json records no model's native scale)
    wrote Muse's s as `guidance`: say so rather than print it as the common scale w = s + 1."""
    if run_dir is None or not (run_dir / RUN_FILE).is_file():
        return []
    models = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8")).get("models", {})
    if any(m.get("adapter") == "muse" and "guidance" not in m for m in models.values()):
        return ["`guidance` below is Muse's s: these runs predate the one guidance convention "
                "(docs/suites.md \"Guidance\": w = s + 1, 1 = off).", ""]
    return []


def same_setting_once(pts: list[dict]) -> list[dict]:
    """Points that differ only in guidance_schedule and have the same values in every row are one setting
    (guidance off: no scale to schedule, so the same images): kept once, its schedule shown as "any".
    Counting them twice would count one setting twice on the trade-off front."""
    def signature(p: dict) -> tuple:
        rest = {k: v for k, v in p["params"].items() if k != "guidance_schedule"}
        # to 5 significant digits: the same images give features that differ in the 7th digit when they
        # are computed in a different batch (measured: KID 1.2505487e-3 and 1.2505475e-3 for guidance off)
        values = tuple(sorted((m, f"{r['value']:.5g}") for m, r in p.items() if isinstance(r, dict) and "value" in r))
        return (p["model"], json.dumps(rest, sort_keys=True), values)

    groups: dict[tuple, list[dict]] = {}
    for p in pts:
        groups.setdefault(signature(p), []).append(p)
    kept = []
    for group in groups.values():
        if len(group) == 1 or len({json.dumps(p["params"], sort_keys=True) for p in group}) == 1:
            kept += group
        else:
            kept.append({**group[0], "params": {**group[0]["params"], "guidance_schedule": "any"}})
    return kept


def tradeoff_section(rows: list[dict], run_dir: Path | None = None) -> list[str]:
    everything = points(rows).values()
    dist = FID if any(FID in p for p in everything) else KID  # sweeps at N = 1,000 carry KID: FID needs >= 2,560
    pts = same_setting_once([p for p in everything if dist in p and CLIP in p])
    if not pts:
        return ["Not answerable: the run has no points with both FID (or KID) and CLIP score."]
    name, digits, scale = ("FID", 3, 1.0) if dist == FID else ("KID x 10^3", 3, KID_SCALE)
    front = [p for p in pts if not any(q[dist]["value"] < p[dist]["value"] and q[CLIP]["value"] > p[CLIP]["value"] for q in pts)]
    best_dist = min(pts, key=lambda p: p[dist]["value"])
    best_clip = max(pts, key=lambda p: p[CLIP]["value"])
    n = sorted({str(p[dist].get("n")) for p in pts})
    lines = [*guidance_note(run_dir), f"N = {', '.join(n)} images per setting.",
             f"Lowest {name}: {label(best_dist['params'])} ({name} {fmt(best_dist[dist], digits, scale)}, CLIP {fmt(best_dist[CLIP])}).",
             f"Highest CLIP score: {label(best_clip['params'])} (CLIP {fmt(best_clip[CLIP])}, {name} {fmt(best_clip[dist], digits, scale)}).",
             f"{len(front)} of {len(pts)} settings are on the trade-off front (no setting has both a lower {name} and a "
             "higher CLIP score; point estimates: read neighbours through their intervals).",
             "", f"| guidance | schedule | temperature | {name} (probe) | CLIP score (probe, cosine) | oracle accuracy | front |",
             "|---|---|---|---|---|---|---|"]
    for p in sorted(pts, key=lambda p: (p["params"].get("guidance_schedule", ""), p["params"].get("temperature", 0), p["params"].get("guidance", 0))):
        q = p["params"]
        lines.append(f"| {q.get('guidance', '-')} | {q.get('guidance_schedule', '-')} | {q.get('temperature', '-')} | "
                     f"{fmt(p[dist], digits, scale)} | {fmt(p[CLIP])} | {fmt(p.get(ACC))} | {'yes' if p in front else ''} |")
    return lines


def steps_section(rows: list[dict], run_dir: Path | None = None) -> list[str]:
    lines = ["| model | metric | best value | at steps | fewest steps within the best's interval | value there |",
             "|---|---|---|---|---|---|"]
    found = False
    for metric in (ACC, FID, KID, CLIP):
        by_model: dict[str, list[dict]] = {}
        for row in rows:
            if row["metric"] == metric and "steps" in row["params"]:
                by_model.setdefault(row["model"], []).append(row)
        for model, series in by_model.items():
            series.sort(key=lambda r: r["params"]["steps"])
            hib = series[0]["higher_is_better"]
            best = (max if hib else min)(series, key=lambda r: r["value"])
            enough = next((r for r in series if lo(r) - 1e-9 <= best["value"] <= hi(r) + 1e-9), best)
            scale, shown = (KID_SCALE, f"{metric} (x 10^3)") if metric == KID else (1.0, metric)
            lines.append(f"| {model} | {shown} | {best['value'] * scale:.3f} | {best['params']['steps']} | "
                         f"{enough['params']['steps']} | {fmt(enough, 3, scale)} |")
            found = True
    return lines if found else ["Not answerable: no steps sweep rows."]


CALIBRATION_SUITES = ("calibration", "calibration_holdout", "calibration_perturbed")


def calibration_section(rows: list[dict], run_dir: Path | None = None) -> list[str]:
    """`rows` are the val run's; the other conditions are its sibling run directories."""
    from musebench.report import calibration

    runs_dir = run_dir.parent
    runs = [Run(label=name, run_dir=runs_dir / name, run_json=json.loads((runs_dir / name / RUN_FILE).read_text()), images=())
            for name in CALIBRATION_SUITES if (runs_dir / name / RUN_FILE).is_file()]
    lines = ["| condition | N | oracle accuracy | ECE (raw p) | Brier | AUROC |", "|---|---|---|---|---|---|"]
    for run in runs:
        by = {r["metric"]: r for r in load_rows(run.run_dir / "results.jsonl") if r["model"] == "muse"}
        name, _ = calibration.condition_name(run)
        lines.append(f"| {name} | {by['confidence/ece']['n']} | {fmt(by.get(ACC))} | {fmt(by.get('confidence/ece'))} | "
                     f"{fmt(by.get('confidence/brier'))} | {fmt(by.get('confidence/auroc'))} |")
    gaps = calibration.gap_frame(calibration.conditions(runs))
    lines += ["", calibration.verdict(gaps) if not gaps.empty else "No out-of-distribution condition to compare.", "",
              "ECE: 15 equal-width bins of p = exp(mean token log-probability); the gap is on Platt-mapped p "
              "(fitted on val), two-sample basic bootstrap, Holm over the page's gaps. Details: calibration/index.md."]
    adaptive = REPO / "benchmarks" / "results" / "adaptive_decoding.json"
    if adaptive.is_file():
        data = json.loads(adaptive.read_text())
        lines += ["", f"Confidence-adaptive decoding (N = {data['n']}, paired on the same prompts and seeds): "
                  f"{data['conclusion']} (calibration/adaptive_decoding.md)."]
    return lines


def section(title: str, path: Path, build) -> list[str]:
    lines = [f"## {title}", "", f"From `{path}`.", ""]
    if not path.is_file():
        return lines + [f"Missing: {path} (run scripts/make_reports.sh).", ""]
    return lines + build(load_rows(path), path.parent) + [""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="the reports directory (default reports)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the summary (default REPORTS/SUMMARY.md)")
    args = parser.parse_args()
    r = args.reports
    out = args.out or r / "SUMMARY.md"
    lines = ["# Summary: the four questions, answered from this folder's run files", "",
             "Written by `scripts/summarize_reports.py` (called by `scripts/make_reports.sh`); do not edit.", ""]
    head = r / "head_to_head/runs/head_to_head/results.jsonl"
    lines += section("Headline", head, headline_section)
    lines += section("1. At matched oracle accuracy, how much faster is Muse than latent diffusion?", head, speedup_section)
    lines += section("2. How do FID (or KID) and CLIP score trade off over guidance and schedule?",
                     r / "guidance_sweep/runs/guidance_sweep/results.jsonl", tradeoff_section)
    lines += section("3. Where do more steps stop helping?", r / "steps_sweep/runs/steps_sweep/results.jsonl", steps_section)
    lines += section("4. Is Muse's confidence calibrated, in and out of distribution?",
                     r / "calibration/runs/calibration/results.jsonl", calibration_section)
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
