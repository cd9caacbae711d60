"""`build_report(run_dirs, out_dir) -> index.html path`: tables, plots, grids and the index pages.

Reads only each run's results.jsonl, run.json and the images run.json lists (all checked before
anything is written), builds the report in a staging folder next to `out_dir`, then swaps it in,
so a failed build never leaves a half-written report. An existing `out_dir` is replaced only if it
is empty or a previous report (it holds the MARKER file): `--out ~` cannot delete a home folder.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from musebench.cache.figures import FigureCache
from musebench.errors import MusebenchError
from musebench.report import bars, calibration, cascade, curves, grids, matched, page, pareto, style, tables
from musebench.report.data import Run, load_runs

MARKER = ".musebench-report"


def build_report(run_dirs: list[Path], out_dir: Path, *, progress: bool = False,
                 figure_cache: FigureCache | Path | None = None) -> Path:
    """Write index.md, index.html, tables and figures for `run_dirs` into `out_dir`; return index.html.

    figure_cache: the store (musebench.cache.figures; a directory is taken as one) where rendered
    figures are kept by what they draw (style.save), so an unchanged figure is not rendered twice;
    None renders every figure.
    """
    store = figure_cache if isinstance(figure_cache, FigureCache) else FigureCache(figure_cache)
    runs, df = load_runs([Path(d) for d in run_dirs])
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    _remove_stale(out_dir)
    staging = out_dir.parent / f".{out_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        blocks = _build(runs, df, staging, progress, store)
        title = _title(runs)
        md, html_text = page.render(title, blocks)
        (staging / "index.md").write_text(md, encoding="utf-8")
        (staging / "index.html").write_text(html_text, encoding="utf-8")
        (staging / MARKER).write_text("written by `musebench report`; this folder is replaced on the next build\n")
        _swap(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir / "index.html"


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise MusebenchError(f"--out {out_dir} is a file; give a directory for the report")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise MusebenchError(
            f"--out {out_dir} exists and is not a musebench report; give a new or empty directory "
            "(a previous report there would be replaced)"
        )


def _remove_stale(out_dir: Path) -> None:
    """Staging and old folders of builds that were killed (their pid is gone): nothing else removes them."""
    for path in out_dir.parent.glob(f".{out_dir.name}.*-*"):
        kind, _, pid = path.name[len(out_dir.name) + 2 :].rpartition("-")
        if kind not in ("staging", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _swap(staging: Path, out_dir: Path) -> None:
    """Folder swaps (renames of directories), not file writes: the files inside were written by
    musebench.cache.atomic; these two renames make the whole report appear at once."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(staging, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _build(runs: list[Run], df: pd.DataFrame, out: Path, progress: bool, store: FigureCache) -> list[page.Block]:
    labels = [r.label for r in runs]
    only = _plot_metrics(runs)
    # each model, then each family (model + diffusion scheduler), keeps its colour in every figure
    palette = style.Palette(list(dict.fromkeys(list(df["model"]) + list(df["group"]))))
    stages = [
        ("tables", lambda: _tables(df, out)),
        ("speed-ups", lambda: _speedups(runs, df, out)),
        ("cascade", lambda: cascade.blocks(runs, out, _write_frame)),
        ("steps", lambda: _figures("Metric vs steps", curves.steps_figures(df, out, palette, labels, only, store=store)) + _saturation(df, out)),
        ("guidance", lambda: _figures("Guidance trade-off", curves.tradeoff_figures(df, out, palette, labels, only, store=store))),
        ("latency", lambda: _figures("Latency vs quality", pareto.pareto_figures(df, out, palette, labels, only, store=store,
                                                                                      ceilings=pareto.ceilings(runs)))),
        ("categories", lambda: _figures("Per-category accuracy", bars.category_figures(df, out, palette, labels, store=store))),
        ("calibration", lambda: calibration.blocks(runs, df, out, store, _write_frame)),
        ("grids", lambda: _figures("Image grids", grids.grid_figures(runs, out, store))),
        ("runs", lambda: _provenance(runs, out)),
    ]
    blocks: list[page.Block] = []
    for _, stage in tqdm(stages, desc="report", unit="part", disable=not progress):
        blocks += stage()
    return blocks


def _report_spec(run: Run) -> dict:
    suite = run.run_json.get("suite") or {}
    spec = suite.get("report") if isinstance(suite, dict) else None
    return spec if isinstance(spec, dict) else {}


def _title(runs: list[Run]) -> str:
    """The suites' `report.title` when they agree on one, else the suite names."""
    titles = {_report_spec(r).get("title") for r in runs}
    if len(titles) == 1 and isinstance(next(iter(titles)), str):
        return next(iter(titles))
    return "musebench report: " + ", ".join(dict.fromkeys(r.run_json["suite_name"] for r in runs))


def _plot_metrics(runs: list[Run]) -> frozenset[str] | None:
    """The union of the suites' `report.plots` (metric names); None when any suite plots everything."""
    chosen: set[str] = set()
    for run in runs:
        plots = _report_spec(run).get("plots")
        if plots is None:
            return None
        if not isinstance(plots, (list, tuple)) or not all(isinstance(p, str) for p in plots):
            raise MusebenchError(f"{run.run_dir / 'run.json'}: suite.report.plots must be a list of metric names, got {plots!r}")
        chosen.update(plots)
    return frozenset(chosen)


def _figures(title: str, figures: list[curves.FigureFiles]) -> list[page.Block]:
    if not figures:
        return []  # no data for this kind of plot: no section
    return [page.heading(title)] + [page.figure_block(f) for f in figures]


TABLES = (
    # stem, title, caption, row filter, strip the "oracle/" prefix
    ("summary", "Results", "Each metric per model and sweep point: value [95 % interval]. Bold: a column's best, only where "
     "its interval overlaps no other row's (a conservative test; musebench compare gives the paired one).",
     lambda df: df[df["kind"].isna()], False),
    ("categories", "Oracle accuracy per category", "Fraction of all-correct images per prompt category [95 % interval] "
     "and the images behind each cell (n).", lambda df: df[df["kind"] == "category"], True),
    ("fid_floors", "FID beside its floor", "Each FID [95 % interval] beside its real-vs-real floor: the FID between two "
     "disjoint sets of N reference images, at the same N (metrics/fid_protocol.py real_floor). A value near its floor "
     "is what N real images score; the difference above it is what the model adds. The floor compares N with N, while "
     "the FID compares N with the whole reference (often more images, less small-sample bias), so the floor errs high: "
     "real renders can score below it.",
     lambda df: df[df["metric"].str.startswith("fid/") | (df["kind"] == "floor")], False),
    ("attributes", "Oracle accuracy per attribute", "Fraction of images with the attribute right [95 % interval] and the "
     "images whose prompt constrains it (n).", lambda df: df[df["kind"] == "attribute"], True),
)


def _tables(df: pd.DataFrame, out: Path) -> list[page.Block]:
    blocks = [page.heading("Tables")]
    for stem, title, caption, select, strip in TABLES:
        rows = select(df)
        if rows.empty:
            continue
        table = tables.build_table(rows, stem, title, caption, strip_prefix=strip, show_n=stem != "summary")
        blocks.append(page.table_block(table, tables.write_table(table, out)))
    return blocks


def _speedups(runs: list[Run], df: pd.DataFrame, out: Path) -> list[page.Block]:
    rows = pareto.speedup_rows(df, pareto.items_by_point(runs), pareto.margins(runs), pareto.ceilings(runs))
    if not rows:
        return []
    overall = [r for r in rows if r.quality_metric == pareto.ACCURACY]
    per_category = [r for r in rows if r.quality_metric != pareto.ACCURACY]
    blocks = []
    for title, stem, shown in (("Speed at matched quality", "speedups", overall),
                               ("Speed at matched quality, per prompt category", "speedups_categories", per_category)):
        if not shown:
            continue
        part = pareto.speedup_frame(shown)
        margin = " / ".join(f"{m:g}" for m in dict.fromkeys(r.matched.margin for r in shown))
        sizes = ", ".join(dict.fromkeys(r.sample_size for r in shown))
        caption = (matched.RULE.format(margin=margin) + f" Margin ±{margin} in accuracy (fraction correct), declared "
                   f"in the suite (report.equivalence_margin) before the run; N = {sizes} images per compared pair. "
                   "Accuracy only: FID, KID and CLIP score have no declared margin, so no speed-up is claimed on them. "
                   "Time: batch 1, and each batch N the run timed (per image).")
        if stem != "speedups":
            caption += (" Per category, the rule is applied again on that category's prompts alone (its own best "
                        "points and tests), so the chosen settings can differ from the all-prompt row.")
        blocks.append(page.frame_block(title, caption, part, _write_frame(part, out, stem)))
    return blocks


def _saturation(df: pd.DataFrame, out: Path) -> list[page.Block]:
    frame = curves.saturation_frame(df)
    if frame.empty:
        return []
    caption = ("Per step sweep: the best value and the fewest steps whose 95 % interval contains it, i.e. beyond "
               "which more steps give no difference the intervals can resolve.")
    return [page.frame_block("Where more steps stop helping", caption, frame, _write_frame(frame, out, "saturation"))]


def _provenance(runs: list[Run], out: Path) -> list[page.Block]:
    rows = []
    for run in runs:
        info = run.run_json
        cache = info.get("cache") or {}
        timings = info.get("timings") or {}
        seconds = sum(v for v in timings.values() if isinstance(v, (int, float)) and math.isfinite(v))
        suite = info.get("suite") or {}
        prompts = suite.get("prompts") or {}
        argv = [str(a) for a in info.get("argv") or []]
        rows.append({
            "run": run.label, "suite": info.get("suite_name"), "suite hash": str(info.get("suite_hash", ""))[:12],
            "prompts × images": f"{prompts.get('limit', '?')} × {prompts.get('images_per_prompt', 1)}" if prompts else "",
            "seed": suite.get("seed", ""),
            "equivalence margin": (suite.get("report") or {}).get("equivalence_margin", ""),
            "command": " ".join(["musebench", *argv[1:]]) if argv else "",
            "checkpoints (sha256, 12)": "; ".join(f"{name}: {str(model.get('fingerprint', ''))[:12]}"
                                                   for name, model in (info.get("models") or {}).items()),
            "git commit": str(info.get("git_commit", ""))[:10] + {True: " (dirty)", None: " (dirty: not recorded)"}.get(info.get("git_dirty"), ""),
            "device": _device(info.get("device")),
            "started": str(info.get("started", "")), "finished": str(info.get("finished", "")),
            "cache hits": cache.get("hits"), "cache misses": cache.get("misses"), "stage seconds": round(seconds, 1),
        })
    frame = pd.DataFrame(rows)
    files = _write_frame(frame, out, "runs")
    caption = ("Where the numbers come from (run.json of each run directory): N, the suite seed every image "
               "seed derives from, the equivalence margin of matched-quality claims, the exact command, each "
               "model's fingerprint (sha256 over its weight files) and the code's commit.")
    return [page.heading("Runs"), page.frame_block("Provenance", caption, frame, files)]


def _device(device: object) -> str:
    """run.json's device: a string, or the runner's {name, cpu, gpu, ...} dict."""
    if isinstance(device, dict):
        parts = [device.get("name"), device.get("gpu") or device.get("cpu")]
        return " · ".join(str(p) for p in parts if p)
    return "" if device is None else str(device)


def _write_frame(frame: pd.DataFrame, out: Path, stem: str) -> dict[str, str]:
    path = out / f"{stem}.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    return {"csv": path.name}
