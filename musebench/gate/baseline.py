"""Baseline files: a results.jsonl with one provenance header record in front.

Format (JSONL, UTF-8; documented in docs/ci.md):

    line 1: {"musebench_baseline": 2, "suite_name": "quickstart", "suite_hash": "...",
             "metrics": ["latency/ratio", "oracle/all_correct", ...], "models": ["muse"],
             "git_commit": "...", "created": "2026-11-27T10:00:00Z", "source_run": "runs/quickstart",
             "run_started": "...", "run_finished": "...", "machine": {...}, "versions": {...}}
    line 2..: the run's results.jsonl rows, each with its per-item outcomes inline (format 2):
             "items": {"keys": ["<prompt index>/<seed>", ...], "values": [1.0, 0.0, ...]}
             (absent for rows without items: set-level metrics, runs before results schema 2)

Format 1 (rows without items) is still read; a newer format is refused with "upgrade musebench".

The header carries what makes two runs comparable (suite name, metric set) and what tells a
reader where the numbers came from (commit, date, machine). A baseline is any run's results: to
refresh it, run the suite and `musebench gate RUN_DIR --write-baseline FILE`.
"""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.cache.atomic import write_atomic
from musebench.results.items import decode, encode
from musebench.results.run_dir import RunData
from musebench.results.schema import ResultRow, check_version, parse_rows, read_jsonl

FORMAT_KEY = "musebench_baseline"
FORMAT_VERSION = 2  # 1: rows as in results.jsonl; 2: each row's per-item outcomes inline


@dataclass(frozen=True)
class Baseline:
    path: Path
    header: dict  # the provenance record (line 1)
    rows: tuple[ResultRow, ...]  # with .items where the baseline has them (format 2)

    @property
    def suite_name(self) -> str:
        return self.header["suite_name"]

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.header["metrics"])


def make_header(run: RunData) -> dict:
    """Provenance of `run`, as line 1 of a baseline file."""
    run_json = run.run_json
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "suite_name": run.suite_name,
        "suite_hash": run.suite_hash,
        "suite_path": run_json.get("suite_path"),
        "metrics": list(run.metrics),
        "models": sorted({row.model for row in run.rows}),
        "git_commit": run_json.get("git_commit"),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_run": str(run.run_dir),
        "run_started": run_json.get("started"),
        "run_finished": run_json.get("finished"),
        "machine": {
            "device": run_json.get("device"),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "versions": run_json.get("versions"),
    }


def write_baseline(run: RunData, path: str | Path) -> Path:
    """Write header + rows to `path` atomically (temp file in the same folder, then rename)."""
    _check_computed(run.rows, "a run whose metrics all computed (rerun it)")
    lines = [json.dumps(make_header(run), sort_keys=True)]
    lines += [json.dumps(baseline_line(row), sort_keys=True) for row in run.rows]
    return write_atomic(Path(path), ("\n".join(lines) + "\n").encode("utf-8"), "--write-baseline")


def _check_computed(rows, fix: str) -> None:
    """A baseline holds computed values: a NaN or inf row would compare as a change of NaN."""
    for row in rows:
        if not math.isfinite(row.value):
            raise MusebenchError(f"{row.where}: {row.metric} of {row.model} is {row.value}, not a computed value; "
                                 f"a baseline must be recorded from {fix}")


def baseline_line(row: ResultRow) -> dict:
    """A row as a baseline stores it: the results.jsonl fields plus its items inline, if any."""
    return row.to_json() if row.items is None else {**row.to_json(), "items": encode(row.items)}


def _inline_items(value: object, where: str, row: ResultRow) -> dict[str, float]:
    return decode(value, where)


def _check_header(header: object, where: str) -> dict:
    if not isinstance(header, dict) or FORMAT_KEY not in header:
        raise MusebenchError(
            f"{where}: first line is not a baseline header (no '{FORMAT_KEY}' key); "
            "write baselines with `musebench gate RUN_DIR --write-baseline FILE`"
        )
    check_version(header[FORMAT_KEY], f"{where}: key '{FORMAT_KEY}'", FORMAT_VERSION, "baseline format")
    if not isinstance(header.get("suite_name"), str):
        raise MusebenchError(f"{where}: baseline header lacks 'suite_name'")
    metrics = header.get("metrics")
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise MusebenchError(f"{where}: baseline header key 'metrics' must be a list of metric names")
    return header


def load_baseline(path: str | Path) -> Baseline:
    """Read and check a baseline file; every problem is one MusebenchError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise MusebenchError(f"{path}: baseline file not found; record one with `musebench gate RUN_DIR --write-baseline {path}`")
    records = read_jsonl(path)
    if not records:
        raise MusebenchError(f"{path}: baseline file is empty; record one with --write-baseline")
    header = _check_header(records[0][1], records[0][0])
    rows = parse_rows(records[1:], _inline_items if header[FORMAT_KEY] >= 2 else None)
    for row in rows:
        if row.suite != header["suite_name"]:
            raise MusebenchError(f"{row.where}: row of suite '{row.suite}' in a baseline of suite '{header['suite_name']}'")
    _check_computed(rows, "a run whose metrics all computed: re-record it with --write-baseline")
    found = sorted({row.metric for row in rows})
    if found != sorted(header["metrics"]):
        raise MusebenchError(f"{path}: header lists metrics {sorted(header['metrics'])} but the rows hold {found}; rewrite it with --write-baseline")
    return Baseline(path=path, header=header, rows=tuple(rows))


def check_compatible(baseline: Baseline, run: RunData) -> list[str]:
    """Raise on a baseline from another suite or metric set; return notes worth printing."""
    if baseline.suite_name != run.suite_name:
        raise MusebenchError(
            f"{baseline.path}: baseline of suite '{baseline.suite_name}' but the run is of suite "
            f"'{run.suite_name}'; give the baseline recorded for '{run.suite_name}'"
        )
    if tuple(sorted(baseline.metrics)) != run.metrics:
        only_run = sorted(set(run.metrics) - set(baseline.metrics))
        only_base = sorted(set(baseline.metrics) - set(run.metrics))
        raise MusebenchError(
            f"{baseline.path}: baseline has another metric set (only in the run: {only_run or 'none'}; "
            f"only in the baseline: {only_base or 'none'}); record a new baseline with --write-baseline"
        )
    notes = []
    if baseline.header.get("suite_hash") and baseline.header["suite_hash"] != run.suite_hash:
        notes.append(
            f"suite file changed since the baseline (hash {str(baseline.header['suite_hash'])[:12]} -> "
            f"{run.suite_hash[:12]}): the rows are compared where model, metric and sweep point match"
        )
    return notes
