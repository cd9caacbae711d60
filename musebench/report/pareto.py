"""Latency against quality: every sweep point, and each family's Pareto front.

A family is a model, or one diffusion scheduler of a model (points whose params name a
`scheduler`), so Muse's step sweep is compared with each scheduler × steps sweep, as in Muse
(Chang et al. 2023) Table 3 / Fig. 6, where Muse's speed is set against diffusion models at their
quality. A point is on its family's front when no faster point of the family is at least as good.
`speedup_rows` answers "at matched quality, how much faster": for the reference family (the first
one without a scheduler, i.e. Muse; else the first) and each other family, the quality level both reach (the worse of the two bests),
the fastest latency of each at that level, and their ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musebench.report import style
from musebench.report.curves import FigureFiles, nice_metric, slug

LATENCY = "latency/ms_per_image_b1"
QUALITY_PREFIXES = ("oracle/all_correct", "fid/", "kid/", "clip_score/")


@dataclass(frozen=True)
class Speedup:
    run: str
    quality_metric: str
    reference: str  # family
    other: str
    level: float  # the quality both reach
    reference_ms: float
    other_ms: float
    reference_params: str
    other_params: str

    @property
    def ratio(self) -> float:
        """How many times faster the reference is than the other family at that quality."""
        return self.other_ms / self.reference_ms


def points(df: pd.DataFrame, quality: str) -> pd.DataFrame:
    """One row per (run, model, params) with `ms` (latency) and `q` (the quality metric)."""
    keys = ["run", "model", "params_key"]
    lat = df[df["metric"] == LATENCY].set_index(keys)[["value"]].rename(columns={"value": "ms"})
    qual = df[df["metric"] == quality].set_index(keys)
    joined = qual.join(lat, how="inner").reset_index()
    joined = joined[joined["ms"].map(math.isfinite) & joined["value"].map(math.isfinite)]
    return joined.rename(columns={"value": "q"})


def quality_metrics(df: pd.DataFrame) -> list[str]:
    return [m for m in dict.fromkeys(df["metric"]) if m.startswith(QUALITY_PREFIXES) and len(points(df, m)) >= 2]


def front(rows: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """Pareto-optimal rows: sorted by latency, each strictly better than every faster row."""
    best = -math.inf
    keep = []
    for index, row in rows.sort_values(["ms", "q"], ascending=[True, not higher_is_better]).iterrows():
        score = row["q"] if higher_is_better else -row["q"]
        if score > best:
            keep.append(index)
            best = score
    return rows.loc[keep]


def pareto_figures(df: pd.DataFrame, out_dir: Path, palette: style.Palette, runs: list[str],
                   only: frozenset[str] | None = None) -> list[FigureFiles]:
    figures = []
    for quality in quality_metrics(df):
        if only is not None and quality not in only:
            continue
        pts = points(df, quality)
        hib = bool(pts["higher_is_better"].iloc[0])
        with style.figure() as (fig, axes):
            ax = axes[0][0]
            drawn = []  # what this figure shows, the key of its cached files (style.save)
            for (run, family), rows in pts.groupby(["run", "group"], sort=False):
                color, marker, line = palette.color(family), palette.marker(family), style.linestyle(runs.index(run))
                label = f"{family} [{run}]" if len(runs) > 1 else family
                ax.scatter(rows["ms"], rows["q"], color=color, marker=marker, alpha=0.35, s=14, linewidths=0)
                edge = front(rows, hib)
                ax.step(edge["ms"], edge["q"], where="post", color=color, linestyle=line, marker=marker, label=label)
                notes = []
                for _, row in edge.iterrows():
                    steps = row["params"].get("steps")
                    if steps is not None:
                        ax.annotate(f"{steps}", (row["ms"], row["q"]), textcoords="offset points", xytext=(3, 2),
                                    fontsize=6.5, color=color)
                        notes.append((f"{steps}", float(row["ms"]), float(row["q"])))
                drawn.append((label, color, marker, line, rows[["ms", "q"]], edge[["ms", "q"]], notes))
            if pts["ms"].max() / max(pts["ms"].min(), 1e-12) >= 10:
                ax.set_xscale("log")
            ax.set_xlabel("latency, ms per image (batch 1) ↓")
            ax.set_ylabel(f"{nice_metric(quality)} {'↑' if hib else '↓'}")
            ax.set_title(f"Latency vs {nice_metric(quality)}")
            style.legend(ax, pts.groupby(["run", "group"]).ngroups)
            stem = f"pareto_{slug(quality)}"
            png, pdf = style.save(fig, out_dir, stem, drawn=("pareto", quality, hib, drawn))
        caption = (f"Latency against {nice_metric(quality)} for every sweep point (faint) and each family's Pareto front "
                   "(line; labels are step counts). A family is a model, or one diffusion scheduler of it.")
        figures.append(FigureFiles(stem, f"Latency vs {nice_metric(quality)}", caption, png, pdf))
    return figures


def speedup_rows(df: pd.DataFrame) -> list[Speedup]:
    """Matched-quality speed-ups of the first family against each other family, per run and metric."""
    rows = []
    for quality in quality_metrics(df):
        pts = points(df, quality)
        hib = bool(pts["higher_is_better"].iloc[0])
        for run, run_pts in pts.groupby("run", sort=False):
            families = _reference_first(run_pts)
            ref = run_pts[run_pts["group"] == families[0]]
            for other_name in families[1:]:
                other = run_pts[run_pts["group"] == other_name]
                rows.append(_matched(run, quality, families[0], other_name, ref, other, hib))
    return rows


def _reference_first(pts: pd.DataFrame) -> list[str]:
    """Families in results order, the first one without a `scheduler` (Muse) moved to the front."""
    families = list(dict.fromkeys(pts["group"]))
    plain = [f for f in families if not pts[pts["group"] == f]["params"].map(lambda p: "scheduler" in p).any()]
    if plain:
        families.remove(plain[0])
        families.insert(0, plain[0])
    return families


def _matched(run: str, quality: str, ref_name: str, other_name: str, ref: pd.DataFrame, other: pd.DataFrame, hib: bool) -> Speedup:
    best = (lambda s: s.max()) if hib else (lambda s: s.min())
    level = min(best(ref["q"]), best(other["q"])) if hib else max(best(ref["q"]), best(other["q"]))
    reach_ref = _fastest_reaching(ref, level, hib)
    reach_other = _fastest_reaching(other, level, hib)
    return Speedup(run, quality, ref_name, other_name, float(level), float(reach_ref["ms"]), float(reach_other["ms"]),
                   reach_ref["params_label"], reach_other["params_label"])


def _fastest_reaching(rows: pd.DataFrame, level: float, hib: bool) -> pd.Series:
    ok = rows[rows["q"] >= level] if hib else rows[rows["q"] <= level]
    return ok.sort_values("ms").iloc[0]


def speedup_frame(rows: list[Speedup]) -> pd.DataFrame:
    """The speed-up rows as a table (numbers kept as numbers: the CSV is machine-readable)."""
    return pd.DataFrame(
        [{"run": r.run, "quality metric": r.quality_metric, "reference": r.reference, "other": r.other,
          "matched level": r.level, "reference ms": r.reference_ms, "reference params": r.reference_params,
          "other ms": r.other_ms, "other params": r.other_params, "speed-up": r.ratio} for r in rows]
    )
