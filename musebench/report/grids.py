"""Image grids: prompt × steps, prompt × guidance and prompt × model, from the images listed in run.json.

One grid per (run, model, axis, rest of the sweep point) where the run kept images at two or more
values of the axis: rows are prompts, columns the axis values, each row one seed throughout (the
smallest seed present at every column), so a row shows what the axis alone changes (the layout of
Muse Fig. 9 / Parti's step and guidance strips). A run with no numeric axis to sweep (a comparison
at default settings, a cascade's upsample: [transformer, bicubic]) gets one prompt × model grid
instead: the same prompt and seed across models and their sweep points, each cell the same size
whatever the image's resolution (a 32 px base image beside its 64 px upsamplings, pixels shown as
squares). Images are drawn unsmoothed (tiny 32 px shapes
must stay crisp); the PDF embeds them at native resolution. Where the run scored its images with
the oracle, each image is framed by its verdict, read from the run's items (results/items.py):
✓ in blue when every requirement is met, ✗ in vermillion with the attributes found wrong (symbol
and colour both, so greyscale and colour-blind readers see it; Okabe–Ito colours).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musebench.cache.figures import FigureCache
from musebench.errors import MusebenchError
from musebench.imageio import read_rgb
from musebench.report import style
from musebench.report.curves import FigureFiles, slug
from musebench.report.data import ImageRef, Run, others_label, params_key

AXES = ("steps", "guidance")
MAX_PROMPTS = 6  # rows
MAX_COLUMNS = 8
MAX_GRIDS_PER_AXIS = 3  # per (run, model): more would drown the page; the first ones in run order


@dataclass(frozen=True)
class GridSpec:
    run: str
    model: str
    axis: str
    rest: str  # the other params, fixed in this grid
    values: tuple  # columns: axis values (float), or model names for axis "model"
    rows: tuple[tuple[str, int], ...]  # (prompt, seed)
    cells: dict  # (prompt, seed, value) -> ImageRef


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def grid_specs(run: Run) -> list[GridSpec]:
    specs = []
    for model in dict.fromkeys(ref.model for ref in run.images):
        refs = [r for r in run.images if r.model == model]
        for axis in AXES:
            specs += _axis_specs(run.label, model, axis, refs)[:MAX_GRIDS_PER_AXIS]
    return specs or _model_specs(run)


def _model_specs(run: Run) -> list[GridSpec]:
    """Prompt × model: when the run has no numeric axis to sweep and two to MAX_COLUMNS (model, sweep point)
    columns: one per model, or one per point of a model swept over a non-numeric parameter (a cascade's
    `upsample: [transformer, bicubic]`), labelled "model param=value"."""
    models = list(dict.fromkeys(ref.model for ref in run.images))
    points = {m: list(dict.fromkeys(params_key(r.params) for r in run.images if r.model == m)) for m in models}

    def column(ref: ImageRef) -> str:
        return f"{ref.model} {others_label(ref.params, ())}".strip() if len(points[ref.model]) > 1 else ref.model

    columns = list(dict.fromkeys(column(r) for r in run.images))
    if not 2 <= len(columns) <= MAX_COLUMNS:
        return []
    cells = {(r.prompt, r.seed, column(r)): r for r in run.images}
    rows = _complete_rows(run.images, cells, columns)
    return [GridSpec(run.label, "models", "model", "", tuple(columns), tuple(rows[:MAX_PROMPTS]), cells)] if rows else []


def _complete_rows(refs, cells: dict, columns) -> list[tuple[str, int]]:
    """(prompt, seed) per prompt, in order: the smallest seed with an image in every column; prompts without one are left out."""
    rows = []
    for prompt in dict.fromkeys(r.prompt for r in refs):
        seeds = sorted({r.seed for r in refs if r.prompt == prompt and all((prompt, r.seed, c) in cells for c in columns)})
        if seeds:
            rows.append((prompt, seeds[0]))
    return rows


def _column(axis: str, value) -> str:
    return str(value) if axis == "model" else f"{axis}={value:g}"


def _axis_specs(run: str, model: str, axis: str, refs: list[ImageRef]) -> list[GridSpec]:
    groups: dict[str, list[ImageRef]] = {}
    for ref in refs:
        if _numeric(ref.params.get(axis)):
            groups.setdefault(others_label(ref.params, (axis,)), []).append(ref)
    specs = []
    for rest, members in groups.items():
        values = sorted({float(r.params[axis]) for r in members})
        if len(values) < 2:
            continue
        values = _spread(values, MAX_COLUMNS)
        cells = {(r.prompt, r.seed, float(r.params[axis])): r for r in members}
        rows = _complete_rows(members, cells, values)
        if rows:
            specs.append(GridSpec(run, model, axis, rest, tuple(values), tuple(rows[:MAX_PROMPTS]), cells))
    return specs


def _spread(values: list[float], limit: int) -> list[float]:
    """At most `limit` values, evenly spread, first and last kept."""
    if len(values) <= limit:
        return values
    picks = np.linspace(0, len(values) - 1, limit).round().astype(int)
    return [values[i] for i in dict.fromkeys(picks.tolist())]


def _load(ref: ImageRef) -> np.ndarray:
    """(H, W, 3) uint8 by musebench.imageio's rule."""
    try:
        return read_rgb(ref.path)
    except MusebenchError as exc:
        raise MusebenchError(f"{exc} (or rerun `musebench run` to regenerate it)") from None


RIGHT, WRONG = style.OKABE_ITO[0], style.OKABE_ITO[1]  # blue, vermillion
Verdicts = dict  # (model, params_key, seed) -> (all correct, attributes found wrong)


def verdicts(rows) -> Verdicts:
    """The oracle's verdict on each image of a run, from its result rows' items (Run.rows, read once by
    data.load_runs): oracle/all_correct gives the verdict, each oracle/attribute/<name> item at 0 an
    attribute found wrong. Empty without them."""
    right: dict[tuple, bool] = {}
    wrong: dict[tuple, list[str]] = {}
    for row in rows:
        if row.items is None or not row.metric.startswith("oracle/"):
            continue
        for key, value in row.items.items():
            where = (row.model, params_key(row.params), int(key.rsplit("/", 1)[1]))  # key: "<prompt index>/<seed>"
            if row.metric == "oracle/all_correct":
                right[where] = value == 1.0
            elif row.metric.startswith("oracle/attribute/") and value == 0.0:
                wrong.setdefault(where, []).append(row.metric.rsplit("/", 1)[1])
    return {where: (ok, tuple(sorted(wrong.get(where, ())))) for where, ok in right.items()}


def _mark(ax, verdict: tuple[bool, tuple[str, ...]] | None) -> None:
    if verdict is None:
        return
    ok, failed = verdict
    color = RIGHT if ok else WRONG
    for side in ax.spines.values():
        side.set_visible(True)
        side.set_color(color)
        side.set_linewidth(1.6)
    text = "✓" if ok else "✗ " + ", ".join(failed) if failed else "✗"
    ax.set_xlabel(text, fontsize=5.5, color=color, labelpad=1.5)


def grid_figure(spec: GridSpec, out_dir: Path, index: int, store: FigureCache, marks: Verdicts | None = None) -> FigureFiles:
    nrows, ncols = len(spec.rows), len(spec.values)
    cell = 0.9  # inches per image
    with style.figure(width=1.9 + cell * ncols, height=0.35 + cell * nrows, ncols=ncols, nrows=nrows) as (fig, axes):
        drawn = []  # what this figure shows, the key of its cached files (style.save)
        for r, (prompt, seed) in enumerate(spec.rows):
            for c, value in enumerate(spec.values):
                ax = axes[r][c]
                ref = spec.cells[(prompt, seed, value)]
                pixels = _load(ref)
                ax.imshow(pixels, interpolation="nearest")
                verdict = (marks or {}).get((ref.model, params_key(ref.params), ref.seed))
                drawn.append((prompt, seed, value, pixels, verdict))
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                for side in ax.spines.values():
                    side.set_visible(False)
                _mark(ax, verdict)
                if r == 0:
                    lines = textwrap.wrap(_column(spec.axis, value), 14, break_long_words=False)  # "model\nparam=value"
                    ax.set_title("\n".join(lines), fontsize=7.5 if max(map(len, lines)) <= 14 else 6)
                if c == 0:
                    ax.set_ylabel("\n".join(textwrap.wrap(prompt, 26)[:4]) + f"\n(seed {seed})", rotation=0,
                                  ha="right", va="center", fontsize=6.5, labelpad=4)
        fig.subplots_adjust(wspace=0.04, hspace=0.3 if marks else 0.08)
        stem = f"grid_{slug(spec.run)}_{slug(spec.model)}_{spec.axis}_{index}"
        png, pdf = style.save(fig, out_dir, stem, store, drawn=("grid", spec.axis, spec.values, len(spec.rows), drawn))
    fixed = f", {spec.rest}" if spec.rest else ""
    title = "prompt × model" if spec.axis == "model" else f"{spec.model}{fixed}: prompt × {spec.axis}"
    whose = "" if spec.axis == "model" else f", model {spec.model}{fixed}"
    caption = (f"Run {spec.run}{whose}. Rows: prompts (one seed per row); columns: "
               f"{', '.join(_column(spec.axis, v) for v in spec.values)}.")
    if any(d[4] is not None for d in drawn):
        caption += (" Frames: the oracle's verdict, ✓ blue = every requirement met, ✗ vermillion = not, "
                    "with the attributes it found wrong.")
    return FigureFiles(stem, title, caption, png, pdf)


def grid_figures(runs: list[Run], out_dir: Path, store: FigureCache) -> list[FigureFiles]:
    figures = []
    for run in runs:
        specs = grid_specs(run)
        marks = verdicts(run.rows) if specs else {}
        for i, spec in enumerate(specs):
            figures.append(grid_figure(spec, out_dir, i, store, marks))
    return figures
