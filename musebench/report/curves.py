"""Sweep curves: a metric against sampling steps (with its 95 % band), and the CLIP–FID trade-off.

- `steps_figures`: one figure per metric that was measured at two or more step counts for some
  (run, model, other params) series: the value as a line, the ci95 as a band (Muse, Chang et al.
  2023, Fig. 7 plots FID against steps; the band shows where a difference is noise).
- `tradeoff_figures`: FID against CLIP score as the guidance scale varies, one curve per series,
  each point labelled with its scale (Muse Fig. 8, after Imagen / Saharia et al. 2022 Fig. A.11):
  down and to the right is better.
A figure is made only where the results hold the data for it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musebench.cache.figures import FigureCache
from musebench.report import labels, style
from musebench.report.data import others_label, with_params

LATENCY_CURVES = ("latency/ms_per_image_b1",)  # ratio / images_per_s repeat the same information
@dataclass(frozen=True)
class FigureFiles:
    stem: str
    title: str
    caption: str
    png: str  # file names inside the report directory
    pdf: str


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def series_label(run: str, model: str, rest: str, several_runs: bool) -> str:
    label = f"{model} · {rest}" if rest else model
    return f"{label} [{run}]" if several_runs else label


def color_keys(series: list[tuple[tuple, pd.DataFrame]]) -> list[str]:
    """Colour key per series: its family (model, or model + scheduler) when the family has one series
    here (so Muse is the same blue in every figure), else family + the rest of the sweep point."""
    families = [rows["group"].iloc[0] for _, rows in series]
    rests = {}
    for ((_, _, rest), _), family in zip(series, families):
        rests.setdefault(family, set()).add(rest)
    return [family if len(rests[family]) == 1 else f"{family} · {rest}"
            for ((_, _, rest), _), family in zip(series, families)]


def curve_metrics(df: pd.DataFrame) -> list[str]:
    """Metrics worth a curve: every headline row (not the per-category / per-attribute oracle rows,
    which get bars and tables), and of the latency rows only ms per image."""
    metrics = []
    for metric in dict.fromkeys(df["metric"]):
        if metric.startswith("latency/") and metric not in LATENCY_CURVES:
            continue
        if df[df["metric"] == metric]["kind"].isna().all():
            metrics.append(metric)
    return metrics


def _series(df: pd.DataFrame, axis: str) -> list[tuple[tuple, pd.DataFrame]]:
    """(run, model, rest-of-params) -> rows sorted by the axis value; only series with >= 2 points."""
    df = df[df["value"].map(math.isfinite)]  # a metric that could not be computed (nan) is no point
    df = df.assign(rest=df["params"].map(lambda p: others_label(p, (axis,))))
    out = []
    for key, rows in df.groupby(["run", "model", "rest"], sort=False):
        rows = rows.sort_values(axis)
        if rows[axis].nunique() >= 2:
            out.append((key, rows))
    return out


def _numeric(df: pd.DataFrame, axis: str) -> pd.DataFrame:
    # astype(bool): on no rows the map is an empty *object* Series, which df[...] reads as a list of
    # column labels (no columns at all) instead of a row mask
    ok = df[axis].map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).astype(bool)
    return df[ok].astype({axis: float})


def steps_figures(df: pd.DataFrame, out_dir: Path, palette: style.Palette, runs: list[str],
                  only: frozenset[str] | None = None, *, store: FigureCache) -> list[FigureFiles]:
    """`only`: the suite's `report.plots` (metric names to plot); None plots every metric."""
    figures = []
    stepped = _numeric(with_params(df, "steps"), "steps")
    for metric in curve_metrics(stepped):
        if only is not None and metric not in only:
            continue
        series = _series(stepped[stepped["metric"] == metric], "steps")
        if not series:
            continue
        with style.figure() as (fig, axes):
            ax = axes[0][0]
            keys = color_keys(series)
            drawn = []  # what this figure shows, the key of its cached files (style.save)
            for ((run, model, rest), rows), key in zip(series, keys):
                color, marker, line = palette.color(key), palette.marker(key), style.linestyle(runs.index(run))
                label = series_label(run, model, rest, len(runs) > 1)
                ax.plot(rows["steps"], rows["value"], color=color, marker=marker, linestyle=line, label=label)
                banded = rows[rows["lo"].map(math.isfinite) & rows["hi"].map(math.isfinite)]
                if len(banded) >= 2:
                    ax.fill_between(banded["steps"], banded["lo"], banded["hi"], color=color, alpha=style.BAND_ALPHA, linewidth=0)
                drawn.append((label, color, marker, line, rows[["steps", "value", "lo", "hi"]]))
            steps_axis(ax, stepped["steps"])
            variant = labels.variant_of(stepped, metric)
            hib = bool(stepped[stepped["metric"] == metric]["higher_is_better"].iloc[0])
            ylabel = labels.axis(metric, variant, hib)
            ax.set_ylabel(ylabel)
            ax.set_title(f"{labels.name(metric, variant)} vs sampling steps")
            style.legend(ax, len(series))
            stem = f"steps_{slug(metric)}"
            png, pdf = style.save(fig, out_dir, stem, store, drawn=("steps", ylabel, _steps_values(stepped["steps"]), drawn))
        caption = (f"{labels.name(metric, variant)} against the number of sampling steps; the band is the 95 % "
                   f"interval of each point ({len(series)} series).")
        figures.append(FigureFiles(stem, f"{labels.name(metric, variant)} vs steps", caption, png, pdf))
    return figures


def _steps_values(steps: pd.Series) -> list[float]:
    return sorted(set(float(s) for s in steps))


MIN_TICK_GAP = 0.045  # axes fraction between labelled ticks: about 2.5 characters of a 5-inch axis


def steps_axis(ax, steps: pd.Series) -> None:
    """Ticks at the swept step counts, as plain integers; a label that would sit within MIN_TICK_GAP
    of the previous labelled one (12 and 16 on a log axis from 1 to 64) keeps its tick, not its text."""
    values = _steps_values(steps)
    log = bool(values and values[0] > 0 and values[-1] / values[0] >= 8)
    if log:
        ax.set_xscale("log", base=2)  # 1, 2, 4, ... 32 steps: even spacing per doubling
    ax.set_xticks(values)
    where = [math.log2(v) for v in values] if log else values
    span = (max(where) - min(where)) or 1.0
    shown, last = [], -math.inf
    for v, w in zip(values, where):
        keep = (w - last) / span >= MIN_TICK_GAP
        shown.append(f"{v:g}" if keep else "")
        last = w if keep else last
    ax.set_xticklabels(shown)
    ax.minorticks_off()
    ax.set_xlabel("sampling steps")


def tradeoff_figures(df: pd.DataFrame, out_dir: Path, palette: style.Palette, runs: list[str],
                     only: frozenset[str] | None = None, *, store: FigureCache) -> list[FigureFiles]:
    guided = _numeric(with_params(df, "guidance"), "guidance")
    fids = [m for m in dict.fromkeys(guided["metric"]) if m.startswith(("fid/", "kid/"))]  # a distance to the reference
    clips = [m for m in dict.fromkeys(guided["metric"]) if m.startswith("clip_score/")]
    figures = []
    for fid in fids:
        for clip in clips:
            if only is not None and not {fid, clip} <= only:
                continue
            paired = _pair(guided, fid, clip)
            series = _series(paired, "guidance")
            if series:
                figures.append(_tradeoff_figure(series, fid, clip, labels.variant_of(guided, clip), out_dir, palette,
                                                runs, store))
    return figures


def _pair(df: pd.DataFrame, fid: str, clip: str) -> pd.DataFrame:
    """One row per (run, model, params) with x = CLIP score, y = FID and their intervals."""
    keys = ["run", "model", "params_key"]
    a = df[df["metric"] == fid].set_index(keys)
    b = df[df["metric"] == clip].set_index(keys)[["value", "lo", "hi"]]
    joined = a.merge(b, left_index=True, right_index=True, how="inner", suffixes=("", "_clip")).reset_index()
    return joined


def _tradeoff_figure(series, fid: str, clip: str, variant: str | None, out_dir: Path, palette: style.Palette,
                     runs: list[str], store: FigureCache) -> FigureFiles:
    with style.figure() as (fig, axes):
        ax = axes[0][0]
        drawn = []  # what this figure shows, the key of its cached files (style.save)
        for ((run, model, rest), rows), key in zip(series, color_keys(series)):
            color, marker, line = palette.color(key), palette.marker(key), style.linestyle(runs.index(run))
            label = series_label(run, model, rest, len(runs) > 1)
            drawn.append((label, color, marker, line, rows[["value_clip", "value", "lo", "hi", "lo_clip", "hi_clip", "guidance"]]))
            ax.plot(rows["value_clip"], rows["value"], color=color, marker=marker, linestyle=line, label=label)
            xerr = error_bars(rows["value_clip"], rows["lo_clip"], rows["hi_clip"])
            yerr = error_bars(rows["value"], rows["lo"], rows["hi"])
            if xerr is not None or yerr is not None:
                ax.errorbar(rows["value_clip"], rows["value"], xerr=xerr, yerr=yerr, fmt="none",
                            ecolor=color, elinewidth=0.6, alpha=0.6)
            for x, y, g in zip(rows["value_clip"], rows["value"], rows["guidance"]):
                ax.annotate(f"{g:g}", (x, y), textcoords="offset points", xytext=(3, 3), fontsize=6.5, color=color)
        ax.set_xlabel(labels.axis(clip, variant, True))
        ax.set_ylabel(labels.axis(fid, None, False))
        ax.set_title(f"{fid.split('/')[0].upper()}–CLIP trade-off over guidance scale")
        style.legend(ax, len(series))
        stem = f"tradeoff_{slug(fid)}_{slug(clip)}"
        png, pdf = style.save(fig, out_dir, stem, store, drawn=("tradeoff", fid, clip, variant, drawn))
    caption = (f"{labels.name(fid)} against {labels.name(clip, variant)} as the guidance scale varies (labels on the points); "
               "bars are 95 % intervals where defined. Lower right is better (Muse Fig. 8 style).")
    return FigureFiles(stem, f"{fid.split('/')[0].upper()}–CLIP trade-off over guidance", caption, png, pdf)


def error_bars(value: pd.Series, lo: pd.Series, hi: pd.Series):
    """Asymmetric error bars (2, N) from intervals, or None if no point has one."""
    if not (lo.map(math.isfinite) & hi.map(math.isfinite)).any():
        return None
    return [(value - lo).fillna(0).clip(lower=0).to_numpy(), (hi - value).fillna(0).clip(lower=0).to_numpy()]


def saturation_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Where more steps stop helping: per step-sweep series and metric, the fewest steps whose 95 %
    interval contains the best value of the sweep (so the best is not distinguishable from it);
    without intervals, the fewest steps that reach the best value itself."""
    stepped = _numeric(with_params(df, "steps"), "steps")
    out = []
    for metric in curve_metrics(stepped):
        if metric.startswith("latency/"):
            continue  # latency only grows with steps; there is nothing to saturate
        for (run, model, rest), rows in _series(stepped[stepped["metric"] == metric], "steps"):
            hib = bool(rows["higher_is_better"].iloc[0])
            best = rows.loc[rows["value"].idxmax() if hib else rows["value"].idxmin()]
            covering = rows[rows.apply(lambda r: _covers(r, best["value"]), axis=1)]
            enough = covering.iloc[0] if len(covering) else best  # an interval may miss its own point
            out.append({"run": run, "model": model, "fixed params": rest, "metric": metric,
                        "best value": best["value"], "best at steps": best["steps"],
                        "enough steps": enough["steps"], "value there": enough["value"]})
    return pd.DataFrame(out)


def _covers(row: pd.Series, target: float) -> bool:
    """target inside the row's interval, with round-off slack (a Wilson bound of 5.6e-17 for 0/3)."""
    slack = 1e-9 * max(1.0, abs(target))
    if math.isfinite(row["lo"]) and math.isfinite(row["hi"]):
        return bool(row["lo"] - slack <= target <= row["hi"] + slack)
    return bool(abs(row["value"] - target) <= slack)
