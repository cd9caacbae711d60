"""Render benchmarks/results/adaptive_decoding.json as a report page (issue 25 item 4).

    python scripts/adaptive_decoding_page.py [--results FILE] [--out DIR]

Writes DIR/adaptive_decoding.md, .png and .pdf (default reports/calibration/): every setting's oracle
accuracy (Wilson 95 %) against its measured latency per image, the fixed-step frontier as a line, the
paired comparison of each adaptive setting with the fixed frontier, and the verdict the results file
states. Reads only the results file; exit 2 with one line when it is missing or malformed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEYS = ("command", "n", "rows", "comparisons", "conclusion", "rule", "settings")


def load(path: Path) -> dict | str:
    """The results, or the one-line reason they cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return f"adaptive_decoding_page: cannot read {path} ({exc}); run benchmarks/adaptive_decoding.py first"
    missing = [k for k in KEYS if k not in data]
    if missing:
        return f"adaptive_decoding_page: {path} lacks {', '.join(missing)}; rerun benchmarks/adaptive_decoding.py"
    return data


def figure(data: dict, out: Path) -> tuple[str, str]:
    from musebench.cache.figures import FigureCache
    from musebench.report import style

    rows = data["rows"]
    fixed = sorted((r for r in rows if r.startswith("fixed-")), key=lambda r: rows[r]["latency_s_per_image"])
    with style.figure(width=3.3, height=2.6) as (fig, axes):
        ax = axes[0][0]
        for i, name in enumerate([*fixed, *(r for r in rows if r not in fixed)]):
            row = rows[name]
            x, y = 1000 * row["latency_s_per_image"], row["accuracy"]
            lo, hi = row["accuracy_ci95_wilson"]
            adaptive = name not in fixed
            ax.errorbar(x, y, yerr=[[y - lo], [hi - y]], fmt="s" if adaptive else "o", markersize=3.5, capsize=1.5,
                        color=style.OKABE_ITO[1 if adaptive else 0], elinewidth=0.8)
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(3, -9 if adaptive else 3), fontsize=5.5)
        ax.plot([1000 * rows[r]["latency_s_per_image"] for r in fixed], [rows[r]["accuracy"] for r in fixed],
                color=style.OKABE_ITO[0], linewidth=0.9, label="fixed steps (frontier)")
        ax.plot([], [], "s", color=style.OKABE_ITO[1], markersize=3.5, label="adaptive")
        ax.set_xlabel("latency per image (ms, batch 64, 1 CPU thread)")
        ax.set_ylabel("oracle accuracy")
        ax.legend(loc="lower right", fontsize=6.5)
        return style.save(fig, out, "adaptive_decoding", FigureCache(None))


def _ci(pair) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def page(data: dict, png: str, pdf: str) -> str:
    rows, comparisons = data["rows"], data["comparisons"]
    lines = ["# Confidence-adaptive decoding: does it move the accuracy-latency frontier?", "",
             f"**{data['conclusion']}.**", "",
             f"N = {data['n']} val prompts, the same prompts and seeds for every setting (muse-shapes; "
             f"`{data['command']}`). Settings: sampler options in reference_model/adaptive_options.py.", "",
             f"![accuracy vs latency]({png})", "",
             f"Oracle accuracy (Wilson 95 %) against measured latency per image ([PDF]({pdf})).", "",
             "| setting | params | accuracy [95 %] | ms / image | forwards / image |", "|---|---|---|---|---|"]
    for name, row in rows.items():
        params = " ".join(f"{k}={v}" for k, v in data["settings"][name].items())
        lines.append(f"| {name} | {params} | {row['accuracy']:.3f} {_ci(row['accuracy_ci95_wilson'])} | "
                     f"{1000 * row['latency_s_per_image']:.1f} | {row['mean_forwards_per_image']:.2f} |")
    lines += ["", "Each adaptive setting against the fixed frontier at its own latency (a cost-matched mix of the "
              "two fixed settings either side; bootstrap over batches, Holm over the adaptive settings), and against "
              "the fixed setting of nearest latency (exact McNemar, Newcombe interval; latency ratio paired over batches):", "",
              "| setting | vs frontier: accuracy gap [95 %] | Holm p | nearest fixed | accuracy diff [95 %] | latency ratio [95 %] | verdict |",
              "|---|---|---|---|---|---|---|"]
    for name, c in comparisons.items():
        frontier = c.get("frontier") or {}
        gap = f"{frontier['gap']:+.4f} {_ci(frontier['gap_ci95'])}" if "gap" in frontier else "-"
        holm = f"{frontier['holm_p']:.3g}" if "holm_p" in frontier else "-"
        lines.append(f"| {name} | {gap} | {holm} | {c['fixed']} | {c['accuracy_diff']:+.4f} {_ci(c['accuracy_diff_ci95'])} | "
                     f"{c['latency_ratio']:.3f} {_ci(c['latency_ratio_ci95'])} | {c.get('verdict', '')} |")
    lines += ["", f"Rule: {data['rule']}", ""]
    if data.get("first_declared_rule"):
        passed = ", ".join(data.get("passes_first_declared_rule") or []) or "none"
        lines += [f"The rule was changed after an interim look at part of the data, before the final data: the first "
                  f"declared rule was \"{data['first_declared_rule']}\". Under it, {passed} would pass; it was replaced "
                  "because a cost-matched mix of two fixed step counts passes it too, so it cannot tell a gain from a "
                  "point on the fixed frontier.", ""]
    if data.get("note"):
        lines += [f"Note: {data['note']}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results" / "adaptive_decoding.json")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "calibration")
    args = parser.parse_args(argv)
    data = load(args.results)
    if isinstance(data, str):
        print(data, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    png, pdf = figure(data, args.out)
    (args.out / "adaptive_decoding.md").write_text(page(data, png, pdf), encoding="utf-8")
    print(args.out / "adaptive_decoding.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
