"""The calibration section's figures (report/calibration.py has the numbers they draw): reliability
diagrams of raw and Platt-mapped confidence, the selective-generation curve and the refinement
trajectory (accuracy and token-boundary ratio after each decoding step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from musebench.cache.figures import FigureCache
from musebench.report import style
from musebench.report.calibration import Condition, platt_probs
from musebench.report.curves import FigureFiles

REJECT = "confidence/selective/reject_"


def reliability_figure(found: list[Condition], out: Path, store: FigureCache) -> FigureFiles:
    from musebench.metrics.confidence import reliability

    refs = {c.model: c for c in found if c.reference}
    with style.figure(width=2.4 * len(found), height=4.6, ncols=len(found), nrows=2) as (fig, axes):
        drawn = []
        for col, c in enumerate(found):
            ref = refs.get(c.model)
            maps = [("raw p", np.exp(c.score))]
            if ref is not None:
                same = ref is c
                maps.append(("Platt (val)", platt_probs(ref, None if same else c, np.arange(len(ref.score)),
                                                         None if same else np.arange(len(c.score)))))
            for row, (label, p) in enumerate(maps):
                ax = axes[row][col]
                bins = reliability(p, c.correct, 15)
                x = np.array([b["confidence"] for b in bins])
                y = np.array([b["accuracy"] for b in bins])
                err = np.array([[b["accuracy"] - b["accuracy_ci95"][0], b["accuracy_ci95"][1] - b["accuracy"]] for b in bins]).T
                ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle="--")
                ax.errorbar(x, y, yerr=err, fmt="o", color=style.OKABE_ITO[row], markersize=3, elinewidth=0.8, capsize=1.5)
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1.02)
                ax.set_title(f"{c.name}\n{label}, N = {len(p)}", fontsize=8)
                ax.set_xlabel("confidence (mean of bin)")
                ax.set_ylabel("oracle accuracy")
                drawn.append((c.name, label, x, y, err))
            if ref is None:
                axes[1][col].set_visible(False)
        fig.subplots_adjust(hspace=0.75, wspace=0.45)
        png, pdf = style.save(fig, out, "calibration_reliability", store, drawn=("reliability", drawn))
    caption = ("Reliability diagrams: per 15 equal-width confidence bins (empty bins not drawn), the oracle accuracy "
               "with its 95 % Wilson interval against the bin's mean confidence; the dashed diagonal is perfect "
               "calibration. Top: the raw p = exp(mean token log-probability); bottom: p mapped by a Platt fit on val "
               "(cross-fitted on val itself).")
    return FigureFiles("calibration_reliability", "Reliability diagrams", caption, png, pdf)


def _curve(df: pd.DataFrame, prefix: str, run: str, model: str) -> pd.DataFrame:
    rows = df[(df["run"] == run) & (df["model"] == model) & df["metric"].str.startswith(prefix)].copy()
    rows["x"] = rows["metric"].str[len(prefix):].astype(float)
    return rows.sort_values("x")


def selective_figure(df: pd.DataFrame, found: list[Condition], out: Path, store: FigureCache) -> FigureFiles | None:
    with style.figure(width=3.3, height=2.6) as (fig, axes):
        ax, drawn = axes[0][0], []
        for i, c in enumerate(found):
            rows = _curve(df, REJECT, c.run, c.model)
            overall = df[(df["run"] == c.run) & (df["model"] == c.model) & (df["metric"] == "oracle/all_correct")]
            if rows.empty or overall.empty:
                continue
            x = np.concatenate([[0.0], rows["x"].to_numpy()])
            y = np.concatenate([overall["value"].to_numpy()[:1], rows["value"].to_numpy()])
            lo = np.concatenate([overall["lo"].to_numpy()[:1], rows["lo"].to_numpy()])
            hi = np.concatenate([overall["hi"].to_numpy()[:1], rows["hi"].to_numpy()])
            color = style.OKABE_ITO[i % len(style.OKABE_ITO)]
            ax.plot(x, y, marker=style.MARKERS[i % len(style.MARKERS)], color=color, label=f"{c.model}, {c.name}")
            ax.fill_between(x, lo, hi, color=color, alpha=style.BAND_ALPHA, linewidth=0)
            drawn.append((c.name, x, y, lo, hi))
        if not drawn:
            return None
        ax.set_xlabel("least confident images rejected (%)")
        ax.set_ylabel("oracle accuracy of the rest")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=6.5)
        png, pdf = style.save(fig, out, "calibration_selective", store, drawn=("selective", drawn))
    caption = ("Selective generation: accuracy of the images kept when the least confident x % (by raw p) are "
               "rejected, with 95 % Wilson bands at the kept n. A curve that rises means the confidence ranks "
               "right images above wrong ones.")
    return FigureFiles("calibration_selective", "Selective generation", caption, png, pdf)


def trajectory_figure(df: pd.DataFrame, out: Path, store: FigureCache) -> FigureFiles | None:
    steps = df[df["metric"].str.startswith("confidence/trajectory/step_")]
    if steps.empty:
        return None
    real = df[(df["metric"] == "confidence/boundary/final") & df["metric"].notna()]
    with style.figure(width=6.9, height=2.6, ncols=2) as (fig, axes):
        drawn = []
        for i, ((run, model), _) in enumerate(steps.groupby(["run", "model"], sort=False)):
            color = style.OKABE_ITO[i % len(style.OKABE_ITO)]
            for ax, prefix in zip(axes[0], ("confidence/trajectory/step_", "confidence/boundary/step_")):
                rows = _curve(df, prefix, run, model)
                ax.plot(rows["x"], rows["value"], marker="o", color=color, label=f"{model} [{run}]")
                ax.fill_between(rows["x"], rows["lo"], rows["hi"], color=color, alpha=style.BAND_ALPHA, linewidth=0)
                drawn.append((run, model, prefix, rows["x"].to_numpy(), rows["value"].to_numpy()))
        for j, (_, row) in enumerate(real[real["run"].isin(steps["run"])].iterrows()):
            axes[0][1].axhline(row["value"], color=style.OKABE_ITO[(j + 3) % 8], linestyle="--", linewidth=0.9,
                               label=f"final images: {row['model']} [{row['run']}]")
            drawn.append(("final", row["model"], row["value"]))
        axes[0][0].set_xlabel("decoding step k")
        axes[0][0].set_ylabel("oracle accuracy after step k")
        axes[0][1].set_xlabel("decoding step k")
        axes[0][1].set_ylabel("token-boundary ratio (1 = none)")
        for ax in axes[0]:
            ax.legend(fontsize=6.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.subplots_adjust(wspace=0.35)
        png, pdf = style.save(fig, out, "calibration_trajectory", store, drawn=("trajectory", drawn))
    caption = ("Refinement trajectory: the image decoded after step k of K (masked tokens filled by that step's "
               "argmax). Left: oracle accuracy with 95 % Wilson bands. Right: the token-boundary ratio "
               "(metrics/token_boundary.py: edges on the token grid against edges inside patches; real renders of "
               "the same prompts are the dashed reference) with 95 % bootstrap bands.")
    return FigureFiles("calibration_trajectory", "Refinement trajectory", caption, png, pdf)
