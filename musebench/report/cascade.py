"""What a cascade's super-resolution stage keeps and what it adds (issue 26 item 2), for a run with an
adapter `muse-cascade` model: paired accuracy differences on the same prompts and seeds.

Rows: the stage against the base model alone (the accuracy the stage keeps or loses; the base image
is scored at its own 32 px) and against bicubic upsampling of the same base tokens (what the stage
adds over interpolation). Each difference is b - a with its 95 % Newcombe paired interval
(Newcombe 1998b, method 10) and the paired TOST verdict within the suite's equivalence margin
(musebench.stats.equivalence; Schuirmann 1987), on the items both were scored on. And FID, stage
minus bicubic, at the same N against the same reference: the set-level test `musebench compare`
runs (results/compare_setlevel.py: a basic bootstrap, reference fixed; the two upsamplings are the
same base images, so prompts are resampled with both of their images), one row per feature space,
Holm over those rows (the suite's declared family). KID's bootstrap recomputes its subsets every
round (minutes at N = 4,800), so KID stays in the tables above.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from musebench.report import page
from musebench.report.data import Run
from musebench.report.pareto import margins
from musebench.stats.equivalence import tost_paired_proportions
from musebench.stats.proportions import newcombe_paired

ACCURACY = "oracle/all_correct"
CASCADE, BASE = "muse-cascade", "muse"


def _adapters(run: Run) -> dict[str, str]:
    models = run.run_json.get("models") or {}
    return {name: m.get("adapter") for name, m in models.items() if isinstance(m, dict)}


def by_role(run: Run, keep) -> dict:
    """'stage' / 'bicubic' (the cascade's two upsamplings) / 'base' (a muse model) -> the run's first row
    of that role for which keep(row) holds."""
    adapters = _adapters(run)
    found = {}
    for row in run.rows:
        adapter = adapters.get(row.model)
        if adapter == CASCADE:
            role = "bicubic" if row.params.get("upsample") == "bicubic" else "stage"
        elif adapter == BASE:
            role = "base"
        else:
            continue
        if keep(row):
            found.setdefault(role, row)
    return found


def fid_frame(runs: list[Run]) -> pd.DataFrame:
    from musebench.results.compare_setlevel import has_features, not_comparable, set_level_test
    from musebench.stats.multiple import holm

    rows = []
    for run in runs:
        first = len(rows)
        for metric in dict.fromkeys(row.metric for row in run.rows if row.metric.startswith("fid/")):  # one per extractor
            found = by_role(run, lambda row, m=metric: row.metric == m and has_features(row))
            if {"stage", "bicubic"} <= set(found) and not not_comparable(found["bicubic"], found["stage"]):
                a, b = found["bicubic"], found["stage"]
                test = set_level_test(a, b, run.run_dir, run.run_dir)
                rows.append({"run": run.label, "metric": b.metric, "N": test["n"], "bicubic": a.value, "stage": b.value,
                             "stage - bicubic": test["diff"], "95 % low": test["ci95"][0], "95 % high": test["ci95"][1],
                             "p": test["p_value"], "method": test["method"]})
        family = rows[first:]  # Holm over this run's feature spaces
        for row, adjusted in zip(family, holm([row["p"] for row in family])):
            row["p (Holm)"] = adjusted
            row["verdict"] = ("not shown" if adjusted >= 0.05 else
                              "stage better" if row["stage - bicubic"] < 0 else "stage worse")
    columns = ["run", "metric", "N", "bicubic", "stage", "stage - bicubic", "95 % low", "95 % high", "p", "p (Holm)",
               "verdict", "method"]
    return pd.DataFrame(rows, columns=columns if rows else None)


def _points(run: Run) -> dict[str, tuple[str, dict[str, float]]]:
    """'stage' / 'bicubic' / 'base' -> (row label, its per-item accuracy), from the run's rows."""
    found = by_role(run, lambda row: row.metric == ACCURACY and row.items is not None)
    return {role: (f"{row.model} (base, 32 px)" if role == "base" else
                   f"{row.model} upsample={row.params.get('upsample', 'transformer')}", row.items)
            for role, row in found.items()}


def comparison(label_a: str, a: dict[str, float], label_b: str, b: dict[str, float], margin: float) -> dict:
    """b - a on the items both hold: accuracies, the difference with its 95 % interval, the TOST."""
    common = sorted(set(a) & set(b))
    x = np.array([bool(a[k]) for k in common])
    y = np.array([bool(b[k]) for k in common])
    cells = (int(np.sum(x & y)), int(np.sum(x & ~y)), int(np.sum(~x & y)), int(np.sum(~x & ~y)))
    low, high = newcombe_paired(*cells)
    tost = tost_paired_proportions(x, y, margin)
    verdict = (f"equivalent within ±{margin:g}" if tost.equivalent else
               "better" if low > 0 else "worse" if high < 0 else f"not shown within ±{margin:g}")
    return {"a": label_a, "b": label_b, "N (paired)": len(common), "accuracy a": float(x.mean()),
            "accuracy b": float(y.mean()), "b - a": float(y.mean() - x.mean()), "95 % low": low, "95 % high": high,
            "TOST p": tost.p_value, "verdict": verdict}


def frame(runs: list[Run]) -> pd.DataFrame:
    rows = []
    run_margins = margins(runs)
    for run in runs:
        if CASCADE not in _adapters(run).values():
            continue
        points = _points(run)
        for a, b in (("base", "stage"), ("bicubic", "stage"), ("base", "bicubic")):
            if a in points and b in points:
                rows.append({"run": run.label, **comparison(*points[a], *points[b], run_margins[run.label])})
    return pd.DataFrame(rows)


def blocks(runs: list[Run], out: Path, write_frame: Callable[[pd.DataFrame, Path, str], dict[str, str]]) -> list[page.Block]:
    table = frame(runs)
    if table.empty:
        return []
    margin = " / ".join(f"{m:g}" for m in dict.fromkeys(margins(runs).values()))
    caption = ("Paired on the same prompts and seeds: accuracy (oracle, all requirements met) of b minus a, with its "
               "95 % Newcombe paired interval, and the paired TOST (two one-sided tests at 5 %, 90 % interval) "
               f"within ±{margin}, the margin the suite declared (report.equivalence_margin). The base model's images "
               "are scored at 32 px, the cascade's at 64 px. 'better' / 'worse': the 95 % interval excludes 0.")
    blocks = [page.frame_block("What the super-resolution stage keeps", caption, table, write_frame(table, out, "cascade"))]
    fids = fid_frame(runs)
    if not fids.empty:
        blocks.append(page.frame_block(
            "What the super-resolution stage adds: FID against bicubic upsampling", "FID of the cascade's stage minus "
            "FID of bicubic 2x of the same base images, at the same N against the same reference, with the 95 % "
            "interval of a basic bootstrap (the reference held fixed; the test `musebench compare` runs on "
            "set-level rows). Both are upsamplings of the same base images, so each round resamples prompts and "
            "takes both of their images: the errors of the base image, which the two share, stay paired. Lower "
            "is better: 'stage better' is a negative difference with a Holm-adjusted p < 0.05, Holm over the "
            "rows of one run (one per feature extractor: the probe CLIP reads what is drawn, random-VGG features, "
            "musebench/metrics/random_vgg.py, how sharply). Each FID's floor is in the table above.", fids,
            write_frame(fids, out, "cascade_fid")))
    return blocks
