"""Per-category oracle accuracy as grouped bars with 95 % interval whiskers.

The rows are `oracle/<category>` with `extra.kind == "category"` (musebench.metrics.oracle: the
GenEval task tags, Ghosh et al. 2023 Table 2, plus the shapes world's hold-out category). One group
of bars per category, one bar per (run, model, sweep point). A sweep has many points, so with more
than MAX_SERIES of them only each (run, model)'s best point by `oracle/all_correct` is shown (the
caption says so); the full numbers are in the per-category table.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from musebench.cache.figures import FigureCache
from musebench.report import labels, style
from musebench.report.curves import FigureFiles

MAX_SERIES = 6
OVERALL = "oracle/all_correct"


def category_rows(df: pd.DataFrame) -> pd.DataFrame:
    rows = df[df["kind"] == "category"]
    return rows.assign(category=rows["metric"].str.split("/", n=1).str[1])


def _series_keys(df: pd.DataFrame, cats: pd.DataFrame) -> tuple[list[tuple[str, str, str]], bool]:
    """(run, model, params_key) bars to draw, and whether the set was cut to each model's best point."""
    keys = list(dict.fromkeys(zip(cats["run"], cats["model"], cats["params_key"])))
    if len(keys) <= MAX_SERIES:
        return keys, False
    overall = df[df["metric"] == OVERALL]
    best = []
    for (run, model), _ in cats.groupby(["run", "model"], sort=False):
        candidates = overall[(overall["run"] == run) & (overall["model"] == model)]
        candidates = candidates[candidates["value"].map(math.isfinite)]
        if len(candidates):
            top = candidates.sort_values("value", ascending=False).iloc[0]
            best.append((run, model, top["params_key"]))
        else:  # no overall accuracy to pick by: the first point in results order
            best.append(next(k for k in keys if k[0] == run and k[1] == model))
    return best, True


def category_figures(df: pd.DataFrame, out_dir: Path, palette: style.Palette, runs: list[str], *,
                     store: FigureCache) -> list[FigureFiles]:
    cats = category_rows(df)
    if cats.empty:
        return []
    keys, cut = _series_keys(df, cats)
    categories = sorted(cats["category"].unique())
    width = 0.8 / len(keys)
    x = np.arange(len(categories))  # (C,) group centres
    with style.figure(width=max(5.0, 0.6 * len(categories) + 2.0), height=3.4) as (fig, axes):
        ax = axes[0][0]
        drawn = []  # what this figure shows, the key of its cached files (style.save)
        for i, (run, model, pkey) in enumerate(keys):
            rows = cats[(cats["run"] == run) & (cats["model"] == model) & (cats["params_key"] == pkey)].set_index("category")
            rows = rows.reindex(categories)  # categories a series lacks become gaps (nan)
            label_params = rows["params_label"].dropna().iloc[0]
            label = f"{model} · {label_params}" + (f" [{run}]" if len(runs) > 1 else "")
            family = rows["group"].dropna().iloc[0]
            color_key = family if len({k[2] for k in keys if k[1] == model}) == 1 else f"{model} · {label_params}"
            lower = (rows["value"] - rows["lo"]).clip(lower=0).fillna(0).to_numpy()
            upper = (rows["hi"] - rows["value"]).clip(lower=0).fillna(0).to_numpy()
            hatch = None if style.linestyle(runs.index(run)) == "-" else "//"
            ax.bar(x - 0.4 + width * (i + 0.5), rows["value"].to_numpy(), width, color=palette.color(color_key),
                   yerr=[lower, upper], error_kw={"elinewidth": 0.7, "capsize": 1.5}, label=label,
                   hatch=hatch, edgecolor="white", linewidth=0.3)
            drawn.append((label, palette.color(color_key), hatch, rows["value"].to_numpy(), lower, upper))
        ax.set_xticks(x)
        ax.set_xticklabels(categories, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(labels.axis(OVERALL, None, True))
        ax.set_title("Per-category accuracy")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=min(len(keys), 2))
        png, pdf = style.save(fig, out_dir, "categories_bars", store, drawn=("categories", categories, drawn))
    caption = "Oracle accuracy per category (bars) with 95 % intervals (whiskers)."
    if len(runs) > 1:
        caption += f" Plain bars: run {runs[0]}; hatched bars: the other runs (named in the legend)."
    if cut:
        caption += f" More than {MAX_SERIES} sweep points: each model's best point by {OVERALL} is shown; see the table for all."
    return [FigureFiles("categories_bars", "Per-category accuracy", caption, png, pdf)]
