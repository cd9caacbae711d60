"""The metric meta-evaluation's files and page (issue 27 item 4): reports/meta_evaluation/.

Reads what musebench/report/meta_evaluation.py computed (no images, no model) and writes
meta_evaluation.json, family.csv, agreement.csv, agreement.png/.pdf/-1col.pdf and index.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from musebench.cache.atomic import write_atomic_text
from musebench.metrics.intervals import wilson_interval
from musebench.report import meta_evaluation as meta

NAMES = {"fid": "FID", "kid": "KID (all pairs)", "cmmd": "CMMD", "precision": "precision", "recall": "recall",
         "density": "density", "coverage": "coverage", "vendi": "Vendi", "clip_score": "CLIP score (cosine)",
         "oracle": "oracle accuracy at N"}


def _fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _num(x: float) -> str:
    """Metric values span 1e-4 (KID) to 1e2 (Vendi): four significant digits."""
    return "n/a" if not np.isfinite(x) else f"{x:.4g}"


def family_rows(family: meta.Family, results: list[meta.DrawResult]) -> list[dict]:
    whole = next((r for r in results if r.draw < 0), None)
    rows = []
    for m, label in enumerate(family.labels):
        k, n = int(family.oracle[m].sum()), family.prompts
        lo, hi = wilson_interval(k, n)
        row = {"member": label, "oracle": k / n, "oracle_lo": lo, "oracle_hi": hi, "n": n}
        if whole is not None:
            row.update({name: float(whole.values[m, j]) for j, name in enumerate(meta.METRICS)})
        rows.append(row)
    return rows


def _csv(rows: list[dict]) -> str:
    import pandas as pd

    return pd.DataFrame(rows).to_csv(index=False, float_format="%.6g")


# metric -> (colour, line style, marker): ten series, eight Okabe-Ito colours, so a colour that repeats
# changes its line style and marker; KID and CMMD often coincide, so CMMD is dashed over KID's solid line
SERIES = {"fid": ("#0072B2", "-", "o"), "kid": ("#D55E00", "-", "s"), "cmmd": ("#009E73", "--", "^"),
          "precision": ("#E69F00", "-", "D"), "recall": ("#56B4E9", "-", "v"), "density": ("#CC79A7", "-", "P"),
          "coverage": ("#0072B2", ":", "X"), "vendi": ("#56B4E9", ":", "*"), "clip_score": ("#D55E00", "--", "h"),
          "oracle": ("#000000", ":", "s")}


def _figure(out: Path, summary: list[dict]) -> str:
    from musebench.cache.figures import FigureCache
    from musebench.report import style

    with style.figure(width=6.9, height=3.3, ncols=2) as (fig, axes):
        for ax, what, label in ((axes[0][0], "tau", "Kendall tau-b vs the oracle"),
                                (axes[0][1], "pairwise", "resolved pairs ordered right")):
            for metric, (colour, line, marker) in SERIES.items():
                rows = [r for r in summary if r["metric"] == metric]
                x = np.array([r["n"] for r in rows], dtype=float)
                lo, hi = np.array([r[f"{what}_draw_lo"] for r in rows]), np.array([r[f"{what}_draw_hi"] for r in rows])
                ax.plot(x, [r[f"{what}_mean"] for r in rows], marker=marker, markersize=3, linewidth=1, linestyle=line,
                        color=colour, label=NAMES[metric])
                if metric in ("fid", "clip_score", "oracle"):  # bands for three, or the panel is unreadable
                    ax.fill_between(x, lo, hi, color=colour, alpha=style.BAND_ALPHA, linewidth=0)
            ax.set_xscale("log")
            ax.set_xlabel("images per model, N")
            ax.set_ylabel(label)
        axes[0][0].axhline(0, color="#888888", linewidth=0.5)
        axes[0][1].axhline(0.5, color="#888888", linewidth=0.5)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=6.5, frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.subplots_adjust(bottom=0.3, wspace=0.3)
        style.save(fig, out, "agreement", FigureCache(None))
    return "agreement.png"


def _agreement_table(summary: list[dict], what: str) -> list[str]:
    ns = sorted({r["n"] for r in summary})
    lines = ["| metric | " + " | ".join(f"N = {n:,}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for metric in (*meta.METRICS, "oracle"):
        cells = []
        for n in ns:
            r = next(x for x in summary if x["n"] == n and x["metric"] == metric)
            cell = f"{_fmt(r[f'{what}_mean'], 2)} [{_fmt(r[f'{what}_mean_lo'], 2)}, {_fmt(r[f'{what}_mean_hi'], 2)}]"
            cell += f" <br>one study: {_fmt(r[f'{what}_draw_lo'], 2)} to {_fmt(r[f'{what}_draw_hi'], 2)}"
            cells.append(cell)
        lines.append(f"| {NAMES[metric]} | " + " | ".join(cells) + " |")
    return lines


def _floor_table(family: meta.Family, results: list[meta.DrawResult]) -> list[str]:
    if family.real is None:
        return ["No `real` member: no real-vs-real floor."]
    ns = sorted({r.n for r in results})
    lines = ["| metric | " + " | ".join(f"N = {n:,}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for j, metric in enumerate(meta.METRICS):
        cells = []
        for n in ns:
            v = np.array([r.values[family.real, j] for r in results if r.n == n and r.draw >= 0])
            cells.append(f"{_num(float(np.mean(v)))} ({_num(float(np.quantile(v, 0.025)))} to {_num(float(np.quantile(v, 0.975)))})")
        lines.append(f"| {NAMES[metric]} | " + " | ".join(cells) + " |")
    return lines


def _damage_section(damage: list[dict], protocol: dict) -> list[str]:
    kinds = list(dict.fromkeys(r["damage"] for r in damage))
    lines = ["## Which metric notices which damage", "",
             f"The real renders damaged two ways, {protocol['damage']['n']:,} images a set, "
             f"{protocol['damage']['draws']} draws (scripts/meta_damage.py says how each set is made).",
             "- *Fidelity-only* damage makes every image worse and keeps the set's variety: pixel noise, blur.",
             "- *Diversity-only* damage keeps every image a perfect render and covers less of the world: no circles, "
             "one category only.", "",
             "Each cell gives the change in units of the clean sets' spread over draws (negative = the metric calls "
             "the damaged set worse), then the share of draws in which it does.", "",
             "| metric | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for metric in meta.METRICS:
        cells = []
        for kind in kinds:
            r = next(x for x in damage if x["damage"] == kind and x["metric"] == metric)
            size = (f"{r['change_in_sd']:+.1f} sd" if np.isfinite(r["change_in_sd"])
                    else f"{r['mean_change']:+.3g} (clean spread 0)")
            cells.append(f"{size} ({r['share_worse']:.0%})")
        lines.append(f"| {NAMES[metric]} | " + " | ".join(cells) + " |")
    return lines + [""]


def write_page(out: Path, family: meta.Family, pairs: list[tuple[int, int]], results: list[meta.DrawResult],
               protocol: dict, damage: list[dict] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    seed = int(protocol["seed"])
    summary = meta.summary_rows(results, seed)
    advice = meta.recommendation(results, seed)
    family_table = family_rows(family, results)
    all_pairs = len(family.labels) * (len(family.labels) - 1) // 2
    unresolved = [(family.labels[i], family.labels[j]) for i in range(len(family.labels))
                  for j in range(i + 1, len(family.labels)) if (i, j) not in set(pairs)]
    draws = [{"n": r.n, "draw": r.draw, **{f"tau/{m}": float(r.tau[j]) for j, m in enumerate((*meta.METRICS, "oracle"))},
              **{f"pairwise/{m}": float(r.pairwise[j]) for j, m in enumerate((*meta.METRICS, "oracle"))}} for r in results]
    document = {"protocol": {**protocol, "draws": {str(k): v for k, v in protocol["draws"].items()},
                             "prompts": family.prompts, "reference_images": len(family.reference)},
                "family": family_table, "resolved_pairs": [[family.labels[i], family.labels[j]] for i, j in pairs],
                "unresolved_pairs": [list(p) for p in unresolved], "agreement": summary, "recommendation": advice,
                "damage": damage, "draws": draws}
    write_atomic_text(out / "meta_evaluation.json", json.dumps(document, indent=1, allow_nan=True) + "\n")
    write_atomic_text(out / "family.csv", _csv(family_table))
    write_atomic_text(out / "agreement.csv", _csv(summary))
    if damage:
        write_atomic_text(out / "damage.csv", _csv(damage))
    figure = _figure(out, summary)

    order = np.argsort(-family.truth())
    lines = ["# Metric meta-evaluation: which metric orders models as the oracle does, at which N", "",
             f"Written by `{protocol['command']}` from the run `{protocol['run']}` (suites/meta_evaluation.yaml); "
             "do not edit. "
             + " ".join(f"The run was made at commit {str(r.get('git_commit'))[:12]} "
                        f"({'dirty' if r.get('git_dirty') else 'clean' if r.get('git_dirty') is False else 'dirty: not recorded'}), "
                        f"{r.get('started')}." for r in protocol.get("runs_made_at", [])), "",
             "## Protocol", "",
             f"- **Family**: {len(family.labels)} shapes-world models (suites/meta_evaluation.yaml says why each). Each made one "
             f"image for each of the same {family.prompts:,} val prompts with the same per-image seeds.",
             "- **Truth**: each member's oracle all-correct accuracy on all of them. "
             f"{len(pairs)} of the {all_pairs} pairs have an order the oracle establishes (paired normal test, Holm, 5 %). "
             "Pairwise accuracy counts only those pairs.",
             f"- **Reference**: {len(family.reference):,} rendered test-split scenes, independent of the prompts. "
             "Features: the shipped probe CLIP, 128-d. CLIP score: the probe's image-text cosine.",
             "- **Draws**: a draw takes N prompts, the same for every member, and N reference images. "
             f"Draws per N: {', '.join(f'{n:,}: {k}' for n, k in protocol['draws'].items())}; seed {seed}.",
             f"- **Drawing**: below {family.prompts:,}, without replacement. At N = {family.prompts:,}, the whole pool "
             "gives the point, and bootstrap resamples give the spread. Resampled duplicates shrink k-NN radii, "
             "which shifts PRDC the same way for every member.",
             "- **Per draw**: Kendall tau-b of each metric's values (lower-is-better metrics negated) against the "
             "oracle order, and the share of resolved pairs it orders right (a tie counts 1/2).",
             "- **Intervals**:",
             "  - `[lo, hi]`: a percentile-bootstrap 95 % interval of the mean over draws.",
             "  - *one study*: the 2.5-97.5 % range of single draws, that is, what one comparison of N images per "
             "model may see. With few draws it is close to the min-max range. Draws share images when N is a large "
             "part of the pool, so at 3,000 the range is narrower than fresh samples would give.",
             "- **Metrics** (musebench/metrics/set_values.py, the suite metrics' own functions):",
             "  - FID;",
             "  - KID: its unbiased estimand over all pairs, where the suite metric averages 100 subsets. That is "
             "lower variance, so these rows are KID's best case;",
             "  - CMMD: RBF with sigma 10, unbiased;",
             "  - precision, recall, density and coverage (k = 5);",
             "  - Vendi: cosine kernel, read as higher = better;",
             "  - CLIP score: mean cosine.",
             "- **Ceiling**: `oracle accuracy at N` is the oracle itself on the N prompts. No metric computed from "
             "the same N images should beat it.", "",
             "## The family (whole pool)", "",
             "| member | oracle accuracy [Wilson 95 %] | " + " | ".join(NAMES[m] for m in meta.METRICS) + " |",
             "|---|---|" + "---|" * len(meta.METRICS)]
    for m in order:
        row = family_table[m]
        cells = " | ".join(_num(row[name]) if name in row else "n/a" for name in meta.METRICS)
        lines.append(f"| {row['member']} | {row['oracle']:.3f} [{row['oracle_lo']:.3f}, {row['oracle_hi']:.3f}] | {cells} |")
    if unresolved:
        lines += ["", "Pairs whose order the oracle does not establish (left out of pairwise accuracy): "
                  + "; ".join(f"{a} / {b}" for a, b in unresolved) + "."]
    lines += ["", "## Recommendation: which metric to trust at your N", "",
              "| N | most reliable here | pairs ordered right | not shown worse | the oracle itself at N |",
              "|---|---|---|---|---|"]
    for a in advice:
        tied = ", ".join(NAMES[t] for t in a["tied"]) or "none"
        lines.append(f"| {a['n']:,} | {NAMES[a['best']]} | {a['best_pairwise']:.2f} | {tied} | {a['oracle_pairwise']:.2f} |")
    lines += ["", "Read it this way. Take two models whose oracle order is known. At N images each, the best metric "
              "orders them right with the probability shown, averaged over the family's resolved pairs. "
              "Metrics in *not shown worse* are within the draws' noise of it.", "",
              f"![tau and pairwise accuracy against N]({figure})", "",
              "Lines: the mean over draws. Bands (FID, CLIP score, the oracle): the 2.5-97.5 % range of single draws "
              "(PDF: [double column](agreement.pdf), [single column](agreement-1col.pdf)). "
              "KID and CMMD often coincide. On unit-norm 128-d features both kernels are nearly linear in x.y "
              "(an RBF with sigma 10; a cubic in x.y / 128 + 1). Both then track the distance between mean "
              "embeddings.", "",
              "## Pairwise accuracy (resolved pairs)", "", *_agreement_table(summary, "pairwise"), "",
              "## Kendall tau-b against the oracle order", "", *_agreement_table(summary, "tau"), "",
              "## Real-vs-real floor", "",
              "The `real` member against the reference: two independent sets of renders. This is what each metric "
              "reads when nothing is wrong. Mean over draws, with the 2.5-97.5 % range.", "",
              *_floor_table(family, results), ""]
    if damage:
        lines += _damage_section(damage, protocol)
    write_atomic_text(out / "index.md", "\n".join(lines))
