"""Read a finished run the way the gate sees it: RUN_DIR/results.jsonl and RUN_DIR/run.json only.

Gates never reach back into the runner (docs/architecture.md): everything they need, including
the gates themselves (`run.json["suite"]["gates"]`), is in these two files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.gate.rows import ResultRow, parse_rows, read_jsonl

RESULTS_FILE = "results.jsonl"
RUN_FILE = "run.json"


@dataclass(frozen=True)
class RunData:
    run_dir: Path
    rows: tuple[ResultRow, ...]
    run_json: dict  # run.json as written by the runner (provenance + resolved suite)

    @property
    def suite_name(self) -> str:
        return self.run_json["suite_name"]

    @property
    def suite_hash(self) -> str:
        return str(self.run_json.get("suite_hash", ""))

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric set: sorted metric names present in results.jsonl."""
        return tuple(sorted({row.metric for row in self.rows}))

    @property
    def raw_gates(self) -> object:
        return (self.run_json.get("suite") or {}).get("gates")


def _read_run_json(path: Path) -> dict:
    if not path.is_file():
        raise MusebenchError(f"{path}: file not found; is {path.parent} a run directory written by `musebench run`?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MusebenchError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg}); rerun `musebench run`") from None
    if not isinstance(data, dict):
        raise MusebenchError(f"{path}: expected a JSON object, got {type(data).__name__}")
    if not isinstance(data.get("suite_name"), str) or not data["suite_name"]:
        raise MusebenchError(f"{path}: key 'suite_name' is missing or not a string; rerun `musebench run`")
    suite = data.get("suite")
    if suite is not None and not isinstance(suite, dict):
        raise MusebenchError(f"{path}: key 'suite' must be the resolved suite as an object")
    return data


def load_run(run_dir: str | Path) -> RunData:
    """RUN_DIR -> RunData; a missing or malformed file is one MusebenchError naming it."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MusebenchError(f"{run_dir}: run directory not found; give the --out directory of `musebench run`")
    results_path = run_dir / RESULTS_FILE
    if not results_path.is_file():
        raise MusebenchError(f"{results_path}: results file not found; did `musebench run` finish for {run_dir}?")
    run_json = _read_run_json(run_dir / RUN_FILE)
    rows = parse_rows(read_jsonl(results_path))
    if not rows:
        raise MusebenchError(f"{results_path}: no result rows; did `musebench run` finish for {run_dir}?")
    for row in rows:
        if row.suite != run_json["suite_name"]:
            raise MusebenchError(
                f"{row.where}: row of suite '{row.suite}' in a run of suite '{run_json['suite_name']}'; "
                "results from two runs were mixed, rerun `musebench run`"
            )
    return RunData(run_dir=run_dir, rows=tuple(rows), run_json=run_json)
