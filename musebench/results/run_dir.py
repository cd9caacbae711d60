"""A run directory's result files: RUN_DIR/results.jsonl, items.jsonl and run.json, written and read.

The runner writes them (`write_run`) only at the end of a successful run, each to a temp file then
os.replace'd, so a reader sees the previous complete file or the new complete file, never a part.
Set-level rows (FID, KID) also keep their features in RUN_DIR/features/ (arrays.py), named from `extra`.
Gate, report and compare read them (`load_run`) and never reach back into the runner: everything
they need, including the gates (`run.json["suite"]["gates"]`), is in these files.

The schema version is recorded once, in run.json (`"results_schema": 2`); a run.json without it
was written before per-item outcomes existed (schema 1) and is read as such.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.results.arrays import save_row_arrays
from musebench.results.items import ITEMS_FILE, items_line, read_items_file
from musebench.results.schema import SCHEMA_VERSION, ResultRow, check_version, parse_rows, read_jsonl

RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"
SCHEMA_KEY = "results_schema"


@dataclass(frozen=True)
class RunData:
    run_dir: Path
    rows: tuple[ResultRow, ...]  # with their items (from items.jsonl) where the run has them
    run_json: dict  # run.json as written by the runner (provenance + resolved suite)

    @property
    def suite_name(self) -> str:
        return self.run_json["suite_name"]

    @property
    def suite_hash(self) -> str:
        return str(self.run_json.get("suite_hash", ""))

    @property
    def schema(self) -> int:
        return int(self.run_json.get(SCHEMA_KEY, 1))

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric set: sorted metric names present in results.jsonl."""
        return tuple(sorted({row.metric for row in self.rows}))

    @property
    def raw_gates(self) -> object:
        return (self.run_json.get("suite") or {}).get("gates")


def prepare_out_dir(path: Path) -> Path:
    """Create --out (and check it is writable) before any work, so a bad path fails early."""
    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise MusebenchError(f"--out {path}: exists and is not a directory; give a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MusebenchError(f"--out {path}: cannot write there ({exc.strerror or exc}); choose a writable directory") from None
    return path


def results_line(row: ResultRow) -> dict:
    """One line of results.jsonl: the row, and where its items are when it has them."""
    return row.to_json() if row.items is None else {**row.to_json(), "items": ITEMS_FILE}


def write_run(out_dir: Path, rows: list[ResultRow], run_info: dict) -> list[ResultRow]:
    """results.jsonl, items.jsonl (when any row has items), features/ (the rows' arrays, before the rows
    that name them) and run.json (with the schema version); the rows as written."""
    from musebench.cache.atomic import write_durable

    rows = [save_row_arrays(out_dir, r) for r in rows]
    text = "".join(json.dumps(results_line(r), allow_nan=True) + "\n" for r in rows)
    with_items = [r for r in rows if r.items is not None]
    if with_items:
        items = "".join(json.dumps(items_line(r), allow_nan=True) + "\n" for r in with_items)
        write_durable(out_dir / ITEMS_FILE, items.encode("utf-8"))
    write_durable(out_dir / RESULTS_FILE, text.encode("utf-8"))
    write_run_json(out_dir, run_info)
    return rows


def write_run_json(out_dir: Path, run_info: dict) -> None:
    """run.json (with the schema version), written last: a run directory with it is complete."""
    from musebench.cache.atomic import write_durable

    info = {SCHEMA_KEY: SCHEMA_VERSION, **run_info}
    write_durable(out_dir / RUN_FILE, (json.dumps(info, indent=2, default=str) + "\n").encode("utf-8"))


def _read_run_json(path: Path) -> dict:
    if not path.is_file():
        raise MusebenchError(f"{path}: file not found; is {path.parent} a run directory written by `musebench run`?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MusebenchError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg}); rerun `musebench run`") from None
    if not isinstance(data, dict):
        raise MusebenchError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if SCHEMA_KEY in data:
        check_version(data[SCHEMA_KEY], f"{path}: key '{SCHEMA_KEY}'")
    if not isinstance(data.get("suite_name"), str) or not data["suite_name"]:
        raise MusebenchError(f"{path}: key 'suite_name' is missing or not a string; rerun `musebench run`")
    suite = data.get("suite")
    if suite is not None and not isinstance(suite, dict):
        raise MusebenchError(f"{path}: key 'suite' must be the resolved suite as an object")
    return data


class _ItemsFromFile:
    """Reads a run row's `"items": "items.jsonl"` reference; notes which items lines were used."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ITEMS_FILE
        self.lines = read_items_file(self.path) if self.path.is_file() else None
        self.used: set[tuple[str, str, str]] = set()

    def __call__(self, value: object, where: str, row: ResultRow) -> dict[str, float]:
        if value != ITEMS_FILE:
            raise MusebenchError(f"{where}: key 'items' must be \"{ITEMS_FILE}\" in a run's results, got {value!r}")
        if self.lines is None:
            raise MusebenchError(f"{where}: the row's items are in {self.path}, which is missing; rerun `musebench run`")
        if row.key not in self.lines:
            raise MusebenchError(f"{where}: {self.path} has no line for model={row.model} metric={row.metric}; rerun `musebench run`")
        self.used.add(row.key)
        return self.lines[row.key][1]

    def check_all_used(self) -> None:
        for key, (where, _) in (self.lines or {}).items():
            if key not in self.used:
                raise MusebenchError(f"{where}: items for model={key[0]} metric={key[2]}, which results.jsonl has no row for")


def load_run(run_dir: str | Path) -> RunData:
    """RUN_DIR -> RunData; a missing or malformed file is one MusebenchError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MusebenchError(f"{run_dir}: run directory not found; give the --out directory of `musebench run`")
    results_path = run_dir / RESULTS_FILE
    if not results_path.is_file():
        raise MusebenchError(f"{results_path}: results file not found; did `musebench run` finish for {run_dir}?")
    run_json = _read_run_json(run_dir / RUN_FILE)
    items = _ItemsFromFile(run_dir) if SCHEMA_KEY in run_json else None  # schema 1: no items key
    rows = parse_rows(read_jsonl(results_path), items)
    if not rows:
        raise MusebenchError(f"{results_path}: no result rows; did `musebench run` finish for {run_dir}?")
    if items is not None:
        items.check_all_used()
    for row in rows:
        if row.suite != run_json["suite_name"]:
            raise MusebenchError(
                f"{row.where}: row of suite '{row.suite}' in a run of suite '{run_json['suite_name']}'; "
                "results from two runs were mixed, rerun `musebench run`"
            )
    return RunData(run_dir=run_dir, rows=tuple(rows), run_json=run_json)

