"""Latency against quality: every sweep point, and each family's Pareto front.

A family is a model, or one diffusion scheduler of a model (points whose params name a
`scheduler`), so Muse's step sweep is compared with each scheduler × steps sweep, as in Muse
(Chang et al. 2023) Table 3 / Fig. 6, where Muse's speed is set against diffusion models at their
quality. A point is on its family's front when no faster point of the family is at least as good.
`speedup_rows` answers "at matched accuracy, how much faster": for the reference family (the first
one without a scheduler, i.e. Muse; else the first) and each other family, the rule of
musebench.report.matched (best point, the points equivalent to it by TOST within the suite's
margin, the fastest of those; then a TOST between the two families' points) and the latency ratio
with its interval, or "not established" when the data cannot show the match.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musebench.cache.figures import FigureCache
from musebench.errors import MusebenchError
from musebench.report import labels, style
from musebench.report.curves import FigureFiles, error_bars, slug
from musebench.report.data import Run
from musebench.report.matched import DEFAULT_MARGIN, Matched, Point, claim, match, sample_size
from musebench.results import RUN_FILE, load_run

LATENCY = "latency/ms_per_image_b1"
QUALITY_PREFIXES = ("oracle/all_correct", "fid/", "kid/", "clip_score/")
ACCURACY = "oracle/all_correct"  # a proportion: the metric a speed-up at matched quality is claimed on ...
CATEGORY = re.compile(r"oracle/(?!attribute/|all_correct$)[a-z_]+")  # ... and per prompt category (oracle/counting)


@dataclass(frozen=True)
class Speedup:
    """Reference family vs another at matched accuracy, by the rule of musebench.report.matched."""

    run: str
    quality_metric: str
    latency_metric: str  # latency/ms_per_image_b1, or at batch N (latency/ms_per_image_b64)
    reference: str  # family
    other: str
    matched: Matched

    @property
    def ratio(self) -> float | None:
        """How many times faster the reference is; None when matched quality is not established."""
        return None if self.matched.ratio is None else self.matched.ratio.value

    @property
    def sample_size(self) -> str:
        return sample_size(self.matched.other.chosen, self.matched.reference.chosen)


def latency_metrics(df: pd.DataFrame) -> list[str]:
    """Batch 1 first, then each batch N the runs timed (metrics/latency.py batch_metric)."""
    found = [m for m in dict.fromkeys(df["metric"]) if labels.BATCH_LATENCY.fullmatch(m) and m != LATENCY]
    return [LATENCY] + sorted(found, key=lambda m: int(labels.BATCH_LATENCY.fullmatch(m).group(1)))


def points(df: pd.DataFrame, quality: str, latency: str = LATENCY) -> pd.DataFrame:
    """One row per (run, model, params) with `ms` (latency) and `q` (the quality metric)."""
    keys = ["run", "model", "params_key"]
    lat = df[df["metric"] == latency].set_index(keys)[["value", "lo", "hi"]]
    lat = lat.rename(columns={"value": "ms", "lo": "ms_lo", "hi": "ms_hi"})
    qual = df[df["metric"] == quality].set_index(keys)
    joined = qual.join(lat, how="inner").reset_index()
    joined = joined[joined["ms"].map(math.isfinite) & joined["value"].map(math.isfinite)]
    return joined.rename(columns={"value": "q"})


def quality_metrics(df: pd.DataFrame, latency: str = LATENCY) -> list[str]:
    return [m for m in dict.fromkeys(df["metric"]) if m.startswith(QUALITY_PREFIXES) and len(points(df, m, latency)) >= 2]


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
                   only: frozenset[str] | None = None, *, store: FigureCache,
                   ceilings: set[tuple[str, str]] = frozenset()) -> list[FigureFiles]:
    """`ceilings` ((run, model), e.g. the real renders) are drawn as a dashed level, not a point: their
    sub-millisecond "latency" is rendering, and as a point it would stretch the latency axis."""
    figures = []
    for latency, quality in [(lat, q) for lat in latency_metrics(df) for q in quality_metrics(df, lat)]:
        if only is not None and quality not in only:
            continue
        everything = points(df, quality, latency)
        hib = bool(everything["higher_is_better"].iloc[0])
        is_ceiling = _among(everything, ceilings)
        pts, levels = everything[~is_ceiling], everything[is_ceiling]
        if pts.empty:
            continue
        with style.figure() as (fig, axes):
            ax = axes[0][0]
            drawn = []  # what this figure shows, the key of its cached files (style.save)
            for (run, model), rows in levels.groupby(["run", "model"], sort=False):
                label = f"{model} (ceiling)" + (f" [{run}]" if len(runs) > 1 else "")
                ax.axhline(float(rows["q"].iloc[0]), color=palette.color(model), linestyle="--", linewidth=1.0, label=label)
                drawn.append((label, float(rows["q"].iloc[0])))
            for position, ((run, family), rows) in enumerate(pts.groupby(["run", "group"], sort=False)):
                color, marker, line = palette.color(family), palette.marker(family), style.linestyle(runs.index(run))
                label = f"{family} [{run}]" if len(runs) > 1 else family
                ax.scatter(rows["ms"], rows["q"], color=color, marker=marker, alpha=0.35, s=14, linewidths=0)
                edge = front(rows, hib)
                ax.step(edge["ms"], edge["q"], where="post", color=color, linestyle=line, marker=marker, label=label)
                xerr, yerr = error_bars(edge["ms"], edge["ms_lo"], edge["ms_hi"]), error_bars(edge["q"], edge["lo"], edge["hi"])
                if xerr is not None or yerr is not None:  # the front's points with their 95 % intervals
                    ax.errorbar(edge["ms"], edge["q"], xerr=xerr, yerr=yerr, fmt="none", ecolor=color,
                                elinewidth=0.7, capsize=1.5, alpha=0.8)
                notes = []
                for _, row in edge.iterrows():
                    steps = row["params"].get("steps")
                    if steps is not None:
                        # alternate families label above and below their points: fronts at similar
                        # accuracy (two schedulers of one model) would print their step counts on top of each other
                        ax.annotate(f"{steps}", (row["ms"], row["q"]), textcoords="offset points",
                                    xytext=(3, 2 if position % 2 == 0 else -8), fontsize=6.5, color=color)
                        notes.append((f"{steps}", float(row["ms"]), float(row["q"])))
                drawn.append((label, color, marker, line, rows[["ms", "q"]], edge[["ms", "q", "ms_lo", "ms_hi", "lo", "hi"]], notes))
            if pts["ms"].max() / max(pts["ms"].min(), 1e-12) >= 5:
                log_ticks(ax)
            variant = labels.variant_of(df, quality)
            ax.set_xlabel(labels.axis(latency, None, False))
            ax.set_ylabel(labels.axis(quality, variant, hib))
            title = f"{labels.name(latency).capitalize()} vs {labels.name(quality, variant)}"
            ax.set_title(title)
            style.legend(ax, pts.groupby(["run", "group"]).ngroups + len(levels))
            stem = f"pareto_{slug(quality)}" + ("" if latency == LATENCY else f"_{latency.rsplit('_', 1)[-1]}")
            png, pdf = style.save(fig, out_dir, stem, store, drawn=("pareto", quality, latency, hib, variant, drawn))
        caption = (f"{labels.name(latency).capitalize()} against {labels.name(quality, variant)} for every sweep point "
                   "(faint) and each family's Pareto front (line; labels are step counts; bars are the front points' "
                   "95 % intervals). A family is a model, or one diffusion scheduler of it.")
        figures.append(FigureFiles(stem, title, caption, png, pdf))
    return figures


def _among(df: pd.DataFrame, models: set[tuple[str, str]]) -> pd.Series:
    """Rows whose (run, model) is in `models`, as a boolean mask."""
    return pd.Series([(r, m) in models for r, m in zip(df["run"], df["model"])], index=df.index, dtype=bool)


def log_ticks(ax) -> None:
    """A log latency axis labelled at 1, 2, 5 x 10^k as plain numbers (20, 50, 100): matplotlib's default
    minor labels (3 x 10^1, 4 x 10^1) run into each other when the axis spans about one decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


ItemsMap = dict[tuple[str, str, str, str], dict[str, float]]  # (run, model, params_key, metric) -> items


def items_by_point(runs: list[Run]) -> ItemsMap:
    """Per-item outcomes of every row that kept them (results schema 2), for the paired tests."""
    found: ItemsMap = {}
    for run in runs:
        for row in load_run(run.run_dir).rows:
            if row.items is not None:
                found[(run.label, row.model, row.params_key, row.metric)] = row.items
    return found


def margins(runs: list[Run]) -> dict[str, float]:
    """Each run's equivalence margin: its suite's report.equivalence_margin (declared before the run)."""
    found = {}
    for run in runs:
        report = ((run.run_json.get("suite") or {}).get("report") or {})
        margin = report.get("equivalence_margin", DEFAULT_MARGIN)
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < 1:
            raise MusebenchError(f"{run.run_dir / RUN_FILE}: suite.report.equivalence_margin must be a number in "
                                 f"(0, 1) (accuracy as a fraction, e.g. 0.02), got {margin!r}")
        found[run.label] = float(margin)
    return found


def ceilings(runs: list[Run]) -> set[tuple[str, str]]:
    """(run, model) of every `real` model: the rendered scenes are the accuracy ceiling, not a generator
    to be faster than (rendering a scene takes under a millisecond)."""
    return {(run.label, name) for run in runs for name, model in (run.run_json.get("models") or {}).items()
            if isinstance(model, dict) and model.get("adapter") == "real"}


def speedup_rows(df: pd.DataFrame, items: ItemsMap | None = None, run_margins: dict[str, float] | None = None,
                 skip: set[tuple[str, str]] = frozenset()) -> list[Speedup]:
    """Matched-accuracy speed-ups of the first family against each other family, per run, accuracy
    metric (all prompts, then each prompt category) and latency (batch 1, then each batch N timed).
    Models in `skip` ((run, model), e.g. `ceilings`) take no part.

    Only accuracies: FID, KID and CLIP score have no declared equivalence margin."""
    items, run_margins = items or {}, run_margins or {}
    accuracies = [ACCURACY] + [m for m in dict.fromkeys(df["metric"]) if CATEGORY.fullmatch(m)]
    df = df[~_among(df, skip)]
    rows = []
    for latency in latency_metrics(df):
        for quality in accuracies:
            pts = points(df, quality, latency)
            for run, run_pts in pts.groupby("run", sort=False):
                families = _reference_first(run_pts)
                family_points = {f: _family_points(run_pts[run_pts["group"] == f], quality, latency, items) for f in families}
                margin = run_margins.get(run, DEFAULT_MARGIN)
                for other in families[1:]:
                    found = match(family_points[families[0]], family_points[other], margin)
                    rows.append(Speedup(run, quality, latency, families[0], other, found))
    return rows


def _family_points(rows: pd.DataFrame, quality: str, latency: str, items: ItemsMap) -> list[Point]:
    out = []
    for _, r in rows.iterrows():
        key = (r["run"], r["model"], r["params_key"])
        n = None if pd.isna(r["n"]) else int(r["n"])
        ms_ci = (float(r["ms_lo"]), float(r["ms_hi"])) if math.isfinite(r["ms_lo"]) and math.isfinite(r["ms_hi"]) else None
        repeats = items.get(key + (latency,))
        out.append(Point(label=r["params_label"], quality=float(r["q"]), n=n, items=items.get(key + (quality,)),
                         ms=float(r["ms"]), ms_ci=ms_ci, ms_repeats=tuple(repeats.values()) if repeats else None))
    return out


def _reference_first(pts: pd.DataFrame) -> list[str]:
    """Families in results order, the first one without a `scheduler` (Muse) moved to the front."""
    families = list(dict.fromkeys(pts["group"]))
    plain = [f for f in families if not pts[pts["group"] == f]["params"].map(lambda p: "scheduler" in p).any()]
    if plain:
        families.remove(plain[0])
        families.insert(0, plain[0])
    return families


def speedup_frame(rows: list[Speedup]) -> pd.DataFrame:
    """The speed-up rows as a table (numbers kept as numbers: the CSV is machine-readable; NaN: no claim)."""
    nan = math.nan
    records = []
    for r in rows:
        m = r.matched
        ref, other, test, ratio = m.reference.chosen, m.other.chosen, m.verdict.test, m.ratio
        ci = ratio.ci95 if ratio is not None and ratio.ci95 is not None else (nan, nan)
        records.append({
            "run": r.run, "quality metric": r.quality_metric, "time": labels.name(r.latency_metric), "margin": m.margin,
            "N": r.sample_size,
            "reference": r.reference, "reference params": ref.label, "reference value": ref.quality,
            "reference ms": ref.ms, "other": r.other, "other params": other.label, "other value": other.quality,
            "other ms": other.ms, "diff": test.diff if test else nan,
            "diff lo": test.ci90[0] if test else nan, "diff hi": test.ci90[1] if test else nan,
            "verdict": m.verdict.status, "speed-up": ratio.value if ratio else nan, "speed-up lo": ci[0],
            "speed-up hi": ci[1], "claim": claim(m), "speed-up interval": ratio.method if ratio else "",
            # the settings each choice was made among: the best and those shown equivalent to it
            "reference tied": "; ".join(p.label for p in m.reference.tied),
            "other tied": "; ".join(p.label for p in m.other.tied),
        })
    return pd.DataFrame(records)
