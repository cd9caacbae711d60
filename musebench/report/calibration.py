"""The confidence-calibration section: is Muse's confidence a probability of being right, in and out of
distribution? (issue 25; rows from metrics/confidence.py, read back from result files only.)

Conditions are the runs: the in-distribution reference is the run whose prompts are the val split
unperturbed; every other run (the hold-out split, perturbed captions) is compared with it.
- Raw: p = exp(mean token log-probability), the metric's own ECE / Brier / AUROC rows.
- Platt: p mapped by sigmoid(a log p + b) fitted on the reference (Platt 1999; stats/calibration.py),
  2-fold cross-fitted on the reference itself (fit on odd items, score even ones and back), fitted on
  all of it for the other conditions: the question "does a calibration learned in distribution still
  hold out of it" (Ovadia et al. 2019, "Can you trust your model's uncertainty?").
- The gap: ECE(condition) - ECE(reference), raw and Platt, and AUROC's difference, each a two-sample
  basic bootstrap (both sets resampled; the Platt fit is redone on every reference resample) with a
  p-value; Holm over the family of every gap on the page (STATISTICS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from musebench.cache.figures import FigureCache
from musebench.report.data import Run

ROUNDS = 1000  # bootstrap rounds of every interval this section computes itself
SEED = 0


@dataclass(frozen=True)
class Condition:
    run: str  # run label
    model: str
    name: str  # "val", "holdout", "val, perturbed (mixed)"
    reference: bool  # val, unperturbed: the in-distribution condition
    score: np.ndarray  # (n,) log p, the mean token log-probability
    correct: np.ndarray  # (n,) bool, the oracle's verdict
    perturbation: tuple[str, ...] = ()  # (n,) the caption's rewrite per item under `perturb: mixed`, else ()


def condition_name(run: Run) -> tuple[str, bool]:
    prompts = (run.run_json.get("suite") or {}).get("prompts") or {}
    split, perturb = prompts.get("split") or "val", prompts.get("perturb")
    name = f"{split}, perturbed ({perturb})" if perturb else split
    return name, split == "val" and not perturb


def conditions(runs: list[Run]) -> list[Condition]:
    """Every (run, model) with per-item confidence and oracle verdicts, in run order: the two rows'
    lines of RUN_DIR/items.jsonl (a committed report may keep only those, scripts/make_reports.sh)."""
    from musebench.results import ITEMS_FILE
    from musebench.results.items import read_items_file

    found = []
    for run in runs:
        path = run.run_dir / ITEMS_FILE
        items = read_items_file(path) if path.is_file() else {}
        name, reference = condition_name(run)
        for (model, pkey, metric), (_, confidence) in items.items():
            verdicts = items.get((model, pkey, "oracle/all_correct"))
            if metric != "confidence/mean" or verdicts is None:
                continue
            keys = [k for k in confidence if k in verdicts[1]]
            score = np.log(np.array([confidence[k] for k in keys]))
            kinds = _kinds(run, keys)
            found.append(Condition(run.label, model, name, reference, score, np.array([verdicts[1][k] > 0.5 for k in keys]), kinds))
    return found


def _kinds(run: Run, keys: list[str]) -> tuple[str, ...]:
    """Each item's perturbation kind, from its prompt index, when the run's prompts are `perturb: mixed`
    (shapes/perturb.py's rule: item i gets PERTURBATIONS[(i // 6) % 3]); () otherwise."""
    from musebench.shapes.perturb import mixed_kind

    prompts = (run.run_json.get("suite") or {}).get("prompts") or {}
    if prompts.get("perturb") != "mixed":
        return ()
    return tuple(mixed_kind(int(k.split("/", 1)[0])) for k in keys)


def perturbation_frame(found: list[Condition]) -> pd.DataFrame:
    """Per perturbation kind of a `mixed` run: N, accuracy, AUROC and the Platt ECE (map fitted on val)."""
    from musebench.metrics.intervals import wilson_interval

    refs = {c.model: c for c in found if c.reference}
    rows = []
    for c in found:
        ref = refs.get(c.model)
        for kind in dict.fromkeys(c.perturbation):
            where = np.flatnonzero(np.array(c.perturbation) == kind)
            k = int(c.correct[where].sum())
            lo, hi = wilson_interval(k, len(where))
            row = {"condition": c.name, "model": c.model, "perturbation": kind, "N": len(where),
                   "accuracy": f"{k / len(where):.3f} [{lo:.3f}, {hi:.3f}]", "AUROC": f"{_auroc(c, where):.3f}"}
            if ref is not None:
                sub = Condition(c.run, c.model, kind, False, c.score[where], c.correct[where])
                value = platt_ece(ref, sub, np.arange(len(ref.score)), np.arange(len(where)))
                lo, hi, _ = _interval(lambda i, j: platt_ece(ref, sub, i, j), len(ref.score), len(where), value)
                row["ECE, Platt map fitted on val"] = f"{value:.3f} [{max(lo, 0):.3f}, {hi:.3f}]"
            rows.append(row)
    return pd.DataFrame(rows)


def platt_probs(ref: Condition, target: Condition | None, ref_index: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    """Platt probabilities of `target`'s items (or the reference's own, cross-fitted when target is None)."""
    from musebench.stats.calibration import platt_apply, platt_fit

    s, c = ref.score[ref_index], ref.correct[ref_index]
    if target is None:  # 2-fold cross-fit on the reference: no item is scored by a map fitted on it
        out = np.empty(len(s))
        for fold in (0, 1):
            test = ref_index % 2 == fold  # folds of original items: a resample's copies of one item share a fold
            train = ~test if (~test).any() else np.ones_like(test)  # a tiny resample with one fold only: fit on it
            out[test] = platt_apply(s[test], *platt_fit(s[train], c[train]))
        return out
    return platt_apply(target.score[index], *platt_fit(s, c))


def _ece(p: np.ndarray, correct: np.ndarray) -> float:
    from musebench.stats.calibration import expected_calibration_error

    return expected_calibration_error(p, correct)


def platt_ece(ref: Condition, target: Condition | None, ref_index: np.ndarray, index: np.ndarray | None) -> float:
    p = platt_probs(ref, target, ref_index, index)
    return _ece(p, (ref.correct[ref_index] if target is None else target.correct[index]))


def _interval(statistic, n_ref: int, n: int, estimate: float) -> tuple[float, float, float]:
    """(lo, hi, p) of statistic(i, j): the reference's n_ref items and a condition's n (0: none, j is
    None) resampled independently; the basic interval (the plug-in ECE is biased upward, STATISTICS.md)
    widened where needed to contain the estimate, p inverting it."""
    from musebench.metrics.intervals import basic_interval_containing, basic_p_value, two_sample_replicates

    draws = two_sample_replicates(n_ref, n, statistic, SEED, ROUNDS)  # (ROUNDS,)
    return (*basic_interval_containing(estimate, draws), basic_p_value(draws, estimate))


def _auroc(c: Condition, index: np.ndarray) -> float:
    from musebench.stats.calibration import auroc

    correct = c.correct[index]
    return auroc(c.score[index], correct) if 0 < correct.sum() < len(correct) else math.nan


def summary_frame(found: list[Condition]) -> pd.DataFrame:
    refs = {c.model: c for c in found if c.reference}
    rows = []
    for c in found:
        everything = np.arange(len(c.score))
        ref = refs.get(c.model)
        platt = "no val reference"
        if ref is not None:
            same = ref is c
            value = platt_ece(ref, None if same else c, np.arange(len(ref.score)), None if same else everything)
            if same:
                lo, hi, _ = _interval(lambda i, _: platt_ece(ref, None, i, None), len(ref.score), 0, value)
            else:
                lo, hi, _ = _interval(lambda i, j: platt_ece(ref, c, i, j), len(ref.score), len(c.score), value)
            platt = f"{value:.3f} [{max(lo, 0):.3f}, {hi:.3f}]"
        rows.append({"condition": c.name, "run": c.run, "model": c.model, "N": len(c.score),
                     "accuracy": f"{c.correct.mean():.3f}", "mean p": f"{np.exp(c.score).mean():.3f}",
                     "ECE, Platt map fitted on val": platt})
    return pd.DataFrame(rows)


def gap_frame(found: list[Condition]) -> pd.DataFrame:
    """Each non-reference condition minus its model's val reference: ECE raw, ECE Platt, AUROC; Holm."""
    from musebench.stats.multiple import holm

    refs = {c.model: c for c in found if c.reference}
    rows, pvalues = [], []
    for c in found:
        ref = refs.get(c.model)
        if c.reference or ref is None:
            continue
        n_ref, n = len(ref.score), len(c.score)
        raw = lambda i, j: _ece(np.exp(c.score[j]), c.correct[j]) - _ece(np.exp(ref.score[i]), ref.correct[i])  # noqa: E731
        platt = lambda i, j: platt_ece(ref, c, i, j) - platt_ece(ref, None, i, None)  # noqa: E731
        disc = lambda i, j: _auroc(c, j) - _auroc(ref, i)  # noqa: E731
        for label, statistic in (("ECE (raw p)", raw), ("ECE (Platt, fitted on val)", platt), ("AUROC", disc)):
            everything = (np.arange(n_ref), np.arange(n))
            estimate = statistic(*everything)
            lo, hi, p = _interval(statistic, n_ref, n, estimate)
            rows.append({"condition": c.name, "model": c.model, "measure": label, "difference vs val": estimate,
                         "95% CI": f"[{lo:.3f}, {hi:.3f}]", "p": p, "N (val, condition)": f"{n_ref}, {n}"})
            pvalues.append(p)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["p (Holm)"] = holm(pvalues)
        frame["significant at 0.05"] = frame["p (Holm)"] < 0.05
    return frame


def verdict(gaps: pd.DataFrame) -> str:
    """One sentence per condition: is its calibration gap (Platt ECE) significant after Holm?"""
    parts = []
    for _, row in gaps[gaps["measure"] == "ECE (Platt, fitted on val)"].iterrows():
        word = "is" if row["significant at 0.05"] else "is not"
        parts.append(f"{row['model']} on {row['condition']}: the calibration gap {word} significant "
                     f"(ECE {row['difference vs val']:+.3f} {row['95% CI']}, Holm p = {row['p (Holm)']:.3g}).")
    return " ".join(parts)


def category_frame(df: pd.DataFrame) -> pd.DataFrame:
    rows = df[df["metric"].str.match(r"confidence/[a-z_]+/(ece|auroc)$")].copy()
    if rows.empty:
        return rows
    rows["category"] = rows["metric"].str.split("/").str[1]
    rows["measure"] = rows["metric"].str.split("/").str[2]
    rows["cell"] = [f"{v:.3f} [{lo:.3f}, {hi:.3f}] (n={n})" if np.isfinite(v) else "undefined"
                    for v, lo, hi, n in zip(rows["value"], rows["lo"], rows["hi"], rows["n"])]
    return rows.pivot_table(index=["run", "model", "category"], columns="measure", values="cell", aggfunc="first").reset_index()


def not_available(df: pd.DataFrame) -> list[str]:
    rows = df[(df["metric"] == "confidence/ece") & df["value"].isna()]
    return sorted({f"{m} [{r}]" for m, r in zip(rows["model"], rows["run"])})


def blocks(runs: list[Run], df: pd.DataFrame, out: Path, store: FigureCache, write_frame) -> list:
    """The section's page blocks; none when no run has confidence rows. write_frame(frame, out, stem) -> files."""
    from musebench.report import page
    from musebench.report.calibration_figures import reliability_figure, selective_figure, trajectory_figure

    if not df["metric"].str.startswith("confidence/").any():
        return []
    found = conditions(runs)
    result = [page.heading("Confidence calibration"), page.paragraph(
        "Does the sampler's own confidence say whether an image is right? p = exp(mean log-probability of the "
        "generated tokens) against the oracle's all-correct verdict; ECE with 15 equal-width bins (Guo et al. 2017). "
        "Raw p is the metric's own number; 'Platt' maps p by a logistic fit on the val run (Platt 1999), the usual "
        "post-hoc recalibration, so the out-of-distribution gap asks whether a calibration learned in "
        "distribution still holds.")]
    missing = not_available(df)
    if missing:
        result.append(page.paragraph("Token confidence not available (the adapter reports none): " + ", ".join(missing) + "."))
    if found:
        frame = summary_frame(found)
        caption = ("Per condition: N images, oracle accuracy, mean raw p, and the ECE of Platt-mapped p with a 95 % "
                   "basic bootstrap interval (the fit redone on every resample). Raw ECE, Brier and AUROC with their "
                   "intervals are in the Results table.")
        result.append(page.frame_block("Calibration by condition", caption, frame, write_frame(frame, out, "calibration_conditions")))
        gaps = gap_frame(found)
        if not gaps.empty:
            caption = ("Each condition minus the val run of the same model; two-sample basic bootstrap "
                       f"({ROUNDS} rounds, seed {SEED}), p from inverting it, Holm over every row of this table.")
            result.append(page.frame_block("Out-of-distribution gap", caption, gaps, write_frame(gaps, out, "calibration_gap")))
            result.append(page.paragraph(verdict(gaps)))
        kinds = perturbation_frame(found)
        if not kinds.empty:
            caption = ("The perturbed run split by the kind of rewrite (shapes/perturb.py): oracle accuracy [Wilson 95 %], "
                       "AUROC of raw p, and the ECE of p mapped by the val-fitted Platt map [basic bootstrap 95 %].")
            result.append(page.frame_block("Perturbed captions by kind", caption, kinds,
                                           write_frame(kinds, out, "calibration_perturbations")))
        result.append(page.figure_block(reliability_figure(found, out, store)))
        selective = selective_figure(df, found, out, store)
        if selective is not None:
            result.append(page.figure_block(selective))
    trajectory = trajectory_figure(df, out, store)
    if trajectory is not None:
        result.append(page.figure_block(trajectory))
    categories = category_frame(df)
    if not categories.empty:
        caption = "Raw-p ECE and AUROC per prompt category [95 % basic bootstrap interval] (n images)."
        result.append(page.frame_block("Calibration per category", caption, categories,
                                       write_frame(categories, out, "calibration_categories")))
    return result
