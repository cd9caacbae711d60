"""One row of results.jsonl (and of a baseline file), its schema version and the strict JSONL reader.

The row (docs/results.md): one JSON object per line with `suite, model, params, metric, value, n,
ci95, higher_is_better, extra` and, from schema 2 on, `items`: where the row's per-item outcomes
live (`"items.jsonl"` in a run directory; `{"keys": [...], "values": [...]}` inline in a baseline).
Run files and baseline files go through `parse_row`, so both fail with the same `file:line` messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from musebench.errors import MusebenchError

SCHEMA_VERSION = 2  # 1: no per-item outcomes (no version recorded); 2: items.jsonl, run.json "results_schema"
REQUIRED_KEYS = ("suite", "model", "params", "metric", "value", "higher_is_better")
OPTIONAL_KEYS = ("n", "ci95", "extra")
ITEMS_KEY = "items"  # optional from schema 2 on; what it holds depends on the file (see ItemsParser)


# Protocol choices a metric records in its row's `extra`: a row measured under another choice (CLIP score
# variant cosine vs torchmetrics' 100 x cos, another FID extractor, preprocessing mode, reference set or
# feature weights, PRDC's neighbour count k) is on another scale, so comparing it with the baseline would be meaningless.
PROTOCOL_KEYS = ("variant", "extractor", "mode", "reference", "fingerprint", "calibration", "k")


@dataclass(frozen=True)
class ResultRow:
    suite: str
    model: str
    params: dict  # sweep point: sampler params, e.g. {"steps": 12, "guidance": 2.0}
    metric: str  # e.g. "oracle/all_correct", "latency/ratio"
    value: float  # may be nan/inf when a metric could not be computed (the gate then fails)
    higher_is_better: bool
    n: int | None = None  # images (or timing repeats) behind the value
    ci95: tuple[float, float] | None = None  # 95 % interval around `value`, lo <= value <= hi
    extra: dict = field(default_factory=dict)
    where: str = ""  # "file:line" the row came from, for error messages
    # per-item outcomes, "<prompt index>/<seed>" (or "repeat/<i>") -> value; None: the metric has none
    # (set-level metrics such as FID) or the file predates schema 2
    items: dict[str, float] | None = None
    # MetricValue.arrays on their way from a metric to write_run, which saves them under RUN_DIR/features/
    # and puts their relative paths in `extra`; never read back from a file (compare loads the paths)
    arrays: dict | None = field(default=None, compare=False, repr=False)

    @property
    def params_key(self) -> str:
        """Canonical text of the sweep point: equal params give equal keys whatever their order."""
        return json.dumps(self.params, sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.model, self.params_key, self.metric)

    def to_json(self) -> dict:
        """The row's fields as results.jsonl writes them, without `items`: each file stores those
        its own way (a run: items.jsonl, a baseline: inline)."""
        return {
            "suite": self.suite,
            "model": self.model,
            "params": self.params,
            "metric": self.metric,
            "value": self.value,
            "n": self.n,
            "ci95": list(self.ci95) if self.ci95 is not None else None,
            "higher_is_better": self.higher_is_better,
            "extra": self.extra,
        }


# (the row's `items` value, "file:line", the row parsed so far) -> the row's items
ItemsParser = Callable[[object, str, ResultRow], "dict[str, float] | None"]


def format_params(params: dict) -> str:
    """{"steps": 12, "guidance": 2.0} -> "guidance=2.0 steps=12" (sorted, short, for tables)."""
    return " ".join(f"{k}={params[k]}" for k in sorted(params)) or "-"


def check_version(found: object, where: str, newest: int = SCHEMA_VERSION, what: str = "schema") -> int:
    """A recorded format version -> int; one newer than `newest` (what this musebench reads) is one clear error."""
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise MusebenchError(f"{where}: {what} version must be a whole number >= 1, got {found!r}; fix or regenerate the file")
    if found > SCHEMA_VERSION:
        raise MusebenchError(
            f"{where}: written by a newer musebench ({what} {found}); upgrade musebench (this one reads {what} <= {newest})"
        )
    return found


def number(value, where: str, key: str) -> float:
    # bool is an int subclass in Python: `true` is not a metric value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MusebenchError(f"{where}: key '{key}' must be a number, got {value!r}; fix or regenerate the file")
    return float(value)


def _ci95(value, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise MusebenchError(f"{where}: key 'ci95' must be [lo, hi] or null, got {value!r}")
    lo, hi = (number(v, where, "ci95") for v in value)
    if not lo <= hi:  # also rejects nan bounds
        raise MusebenchError(f"{where}: key 'ci95' must have lo <= hi, got {value!r}")
    return (lo, hi)


def parse_row(record: object, where: str, items: ItemsParser | None = None) -> ResultRow:
    """A decoded JSON value -> ResultRow, or one MusebenchError naming `where` and the key.

    `items` reads the row's `items` value; without it (schema 1 files) the key is unknown."""
    if not isinstance(record, dict):
        raise MusebenchError(f"{where}: expected a JSON object (a results row), got {type(record).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise MusebenchError(f"{where}: results row lacks key(s) {', '.join(missing)}; is this a results.jsonl?")
    known = set(REQUIRED_KEYS) | set(OPTIONAL_KEYS) | ({ITEMS_KEY} if items is not None else set())
    unknown = sorted(set(record) - known)
    if unknown:
        raise MusebenchError(f"{where}: unknown key(s) {', '.join(unknown)} in a results row")
    for key in ("suite", "model", "metric"):
        if not isinstance(record[key], str) or not record[key]:
            raise MusebenchError(f"{where}: key '{key}' must be a non-empty string, got {record[key]!r}")
    if not isinstance(record["params"], dict):
        raise MusebenchError(f"{where}: key 'params' must be an object, got {record['params']!r}")
    if not isinstance(record["higher_is_better"], bool):
        raise MusebenchError(f"{where}: key 'higher_is_better' must be true or false")
    n = record.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise MusebenchError(f"{where}: key 'n' must be a count >= 0 or null, got {n!r}")
    extra = record.get("extra") or {}
    if not isinstance(extra, dict):
        raise MusebenchError(f"{where}: key 'extra' must be an object, got {extra!r}")
    row = ResultRow(
        suite=record["suite"],
        model=record["model"],
        params=record["params"],
        metric=record["metric"],
        value=number(record["value"], where, "value"),
        higher_is_better=record["higher_is_better"],
        n=n,
        ci95=_ci95(record.get("ci95"), where),
        extra=extra,
        where=where,
    )
    if items is not None and record.get(ITEMS_KEY) is not None:
        row = replace(row, items=items(record[ITEMS_KEY], where, row))
    return row


MAX_JSONL_BYTES = 1 << 30  # a results, items or baseline file; larger is not one musebench wrote


def read_jsonl(path: Path) -> list[tuple[str, object]]:
    """Non-blank lines of a JSONL file -> [("file:line", decoded value)], errors name file:line."""
    if not path.is_file():
        raise MusebenchError(f"{path}: file not found")
    if path.stat().st_size > MAX_JSONL_BYTES:
        raise MusebenchError(f"{path}: {path.stat().st_size / 2**20:.0f} MiB is larger than any results file musebench writes "
                             f"({MAX_JSONL_BYTES >> 20} MiB); give a results.jsonl, items.jsonl or baseline file")
    records = []
    number_ = 0
    try:
        with path.open(encoding="utf-8") as handle:
            for number_, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number_}"
                try:
                    records.append((where, json.loads(line)))
                except (json.JSONDecodeError, RecursionError) as exc:
                    why = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                    raise MusebenchError(f"{where}: malformed JSON ({why}); fix or regenerate the file") from None
    except UnicodeDecodeError:
        raise MusebenchError(f"{path}:{number_ + 1}: not UTF-8 text; give a JSONL file written by musebench") from None
    return records


def parse_rows(records: list[tuple[str, object]], items: ItemsParser | None = None) -> list[ResultRow]:
    """Rows with unique (model, params, metric) keys; a duplicate names both lines."""
    rows: list[ResultRow] = []
    seen: dict[tuple[str, str, str], str] = {}
    for where, record in records:
        row = parse_row(record, where, items)
        if row.key in seen:
            raise MusebenchError(
                f"{where}: duplicate row for model={row.model} params={format_params(row.params)} "
                f"metric={row.metric} (first at {seen[row.key]}); each (model, params, metric) must appear once: "
                "the metric that wrote them gives two results one name"
            )
        seen[row.key] = where
        rows.append(row)
    return rows
