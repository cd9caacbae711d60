"""What a report reads: results.jsonl and run.json of each run directory, nothing else.

The rows are parsed by the strict reader of musebench.results (one schema, the same
`file:line` errors for `musebench gate` and `musebench report`) and turned into one long pandas
table, one row per (run, model, sweep point, metric). `run.json["images"]` (a list of
`{model, params, prompt, seed, path}`, paths relative to the run directory unless absolute) is
checked here too, so that a bad run fails before any report file is written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musebench.errors import MusebenchError
from musebench.models.guidance import with_native
from musebench.results import RUN_FILE, format_params, load_run

IMAGE_KEYS = ("model", "params", "prompt", "seed", "path")
COLUMNS = ("run", "model", "params", "params_key", "params_label", "group", "metric", "value", "n",
           "lo", "hi", "higher_is_better", "kind", "variant")


@dataclass(frozen=True)
class ImageRef:
    """One generated image a grid may show (from run.json["images"])."""

    model: str
    params: dict
    prompt: str
    seed: int
    path: Path  # resolved: absolute, or relative to the run directory


@dataclass(frozen=True)
class Run:
    label: str  # short unique name shown in tables and legends (the run directory's name)
    run_dir: Path
    run_json: dict
    images: tuple[ImageRef, ...]
    rows: tuple = ()  # the run's ResultRows (musebench.results), per-item outcomes included


def params_key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def group_of(model: str, params: dict) -> str:
    """The family a point belongs to in latency plots: Muse, or one diffusion scheduler of a model."""
    scheduler = params.get("scheduler")
    return f"{model} ({scheduler})" if scheduler is not None else model


def load_runs(run_dirs: list[Path]) -> tuple[list[Run], pd.DataFrame]:
    """Every run directory -> (runs, long table with COLUMNS); errors name the file and line."""
    if not run_dirs:
        raise MusebenchError("give at least one RUN_DIR (a directory written by `musebench run`)")
    labels = _labels([Path(d) for d in run_dirs])
    runs: list[Run] = []
    frames: list[pd.DataFrame] = []
    for label, run_dir in zip(labels, run_dirs):
        data = load_run(run_dir)
        images = _images(Path(run_dir), data.run_json)
        runs.append(Run(label=label, run_dir=Path(run_dir), run_json=data.run_json, images=images, rows=tuple(data.rows)))
        guidance = {name: info.get("guidance") for name, info in data.run_json.get("models", {}).items() if isinstance(info, dict)}
        rows = [_row(label, row, guidance.get(row.model)) for row in data.rows]
        rows += [_floor_row(label, row, guidance.get(row.model)) for row in data.rows if _floor(row) is not None]
        frames.append(pd.DataFrame(rows, columns=list(COLUMNS)))
    return runs, pd.concat(frames, ignore_index=True)


FLOOR = "floor of "  # "floor of fid/probe": a FID row's real-vs-real floor at the same N (metrics/fid.py extra.floor)


def _floor(row) -> float | None:
    floor = row.extra.get("floor") if row.metric.startswith("fid/") else None
    return float(floor) if isinstance(floor, (int, float)) and not isinstance(floor, bool) and math.isfinite(floor) else None


def _floor_row(label: str, row, guidance: dict | None) -> dict:
    """The floor as its own row (kind "floor"), so the FID table shows it beside the value; no figure draws it."""
    return {**_row(label, row, guidance), "metric": FLOOR + row.metric, "value": _floor(row), "lo": math.nan,
            "hi": math.nan, "kind": "floor", "variant": None}


def _row(label: str, row, guidance: dict | None) -> dict:
    """`guidance`: run.json's record of the model's native guidance scale (models/guidance.py), so the
    label shows both scales where they differ: "guidance=3.0 (Muse s=2) steps=12"."""
    lo, hi = row.ci95 if row.ci95 is not None else (math.nan, math.nan)
    return {
        "run": label,
        "model": row.model,
        "params": row.params,
        "params_key": params_key(row.params),
        "params_label": format_params(with_native(row.params, guidance)),
        "group": group_of(row.model, row.params),
        "metric": row.metric,
        "value": row.value,
        "n": row.n,
        "lo": lo,
        "hi": hi,
        "higher_is_better": row.higher_is_better,
        "kind": row.extra.get("kind"),  # "category" / "attribute" for oracle rows
        "variant": row.extra.get("variant"),  # a metric's named convention (clip_score: report/labels.py)
    }


def _labels(run_dirs: list[Path]) -> list[str]:
    """Directory names, lengthened with parents until unique (runs/a/x and runs/b/x -> a/x, b/x)."""
    resolved = [d.resolve() for d in run_dirs]
    if len(set(resolved)) != len(resolved):
        raise MusebenchError("the same RUN_DIR is given twice; give each run directory once")
    depth = 1
    while True:
        labels = ["/".join(d.parts[-depth:]) for d in resolved]
        if len(set(labels)) == len(labels) or depth >= max(len(d.parts) for d in resolved):
            return labels
        depth += 1


def _images(run_dir: Path, run_json: dict) -> tuple[ImageRef, ...]:
    where = run_dir / RUN_FILE
    raw = run_json.get("images", [])
    if not isinstance(raw, list):
        raise MusebenchError(f"{where}: key 'images' must be a list of {{{', '.join(IMAGE_KEYS)}}}, got {type(raw).__name__}")
    refs = []
    for position, item in enumerate(raw):
        missing = [k for k in IMAGE_KEYS if not isinstance(item, dict) or k not in item]
        if missing:
            raise MusebenchError(f"{where}: images[{position}] lacks key(s) {', '.join(missing)}; rerun `musebench run`")
        if not isinstance(item["params"], dict) or not isinstance(item["prompt"], str) or not isinstance(item["path"], str):
            raise MusebenchError(f"{where}: images[{position}] needs params (object), prompt and path (strings)")
        if isinstance(item["seed"], bool) or not isinstance(item["seed"], int):
            raise MusebenchError(f"{where}: images[{position}].seed must be an integer, got {item['seed']!r}")
        path = Path(item["path"])
        path = path if path.is_absolute() else run_dir / path
        if not path.is_file():
            raise MusebenchError(
                f"{where}: images[{position}].path {path} does not exist; the cache was pruned or moved, "
                "rerun `musebench run` to regenerate it"
            )
        refs.append(ImageRef(model=str(item["model"]), params=item["params"], prompt=item["prompt"], seed=item["seed"], path=path))
    return tuple(refs)


def with_params(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Rows whose params contain `name`, with a column `name` holding its value."""
    mask = df["params"].map(lambda p: name in p)
    out = df[mask].copy()
    out[name] = out["params"].map(lambda p: p[name])
    return out


def others_label(params: dict, skip: tuple[str, ...]) -> str:
    """The sweep point without the plotted axes, for legends: "guidance=2.0 temperature=1.0"."""
    rest = {k: v for k, v in params.items() if k not in skip}
    return format_params(rest) if rest else ""
