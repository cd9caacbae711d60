"""Per-item outcomes: one value per image (or timing repeat) behind a mean, keyed so two runs pair.

A key is `"<prompt index>/<seed>"` for an image (the prompt's index in its source and the image's
seed, musebench.plan.image_seed: the same prompt and image index give the same key in every model,
sweep point and run) and `"repeat/<i>"` for a timing repeat. A run stores them in
`RUN_DIR/items.jsonl`, one line per (model, params, metric):

    {"model": "muse", "params": {"steps": 12}, "metric": "oracle/all_correct",
     "keys": ["0/8117...", "1/2214...", ...], "values": [1.0, 0.0, ...]}

and the row in results.jsonl says so (`"items": "items.jsonl"`). A baseline file stores each row's
items inline: `"items": {"keys": [...], "values": [...]}`.
"""

from __future__ import annotations

import json
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.results.schema import ResultRow, format_params, number, read_jsonl

ITEMS_FILE = "items.jsonl"
ITEM_KEYS = ("model", "params", "metric", "keys", "values")


def item_key(prompt_index: int, seed: int) -> str:
    """The key of one image: its prompt's index in the source and its seed."""
    return f"{prompt_index}/{seed}"


def items_digest(keys: tuple[str, ...]) -> str:
    """Which items a set-level row's features hold, in order: two rows with equal digests hold the same
    images' features row for row (same prompts and seeds), so `musebench compare` may pair them."""
    import hashlib

    return "sha256:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]


def repeat_key(index: int) -> str:
    """The key of one timing repeat (latency): repeats pair by their position in the run."""
    return f"repeat/{index}"


def check_items(pairs: object, what: str) -> dict[str, float]:
    """(key, value) pairs (MetricValue.items) -> {key: value}; repeated keys are a metric's bug."""
    items = {str(k): float(v) for k, v in pairs}
    if len(items) != len(pairs):
        raise MusebenchError(f"{what}: per-item outcomes repeat a key; each image (or repeat) must appear once")
    return items


def encode(items: dict[str, float]) -> dict:
    """{key: value} -> {"keys": [...], "values": [...]} (the inline and items.jsonl form)."""
    return {"keys": list(items), "values": [float(v) for v in items.values()]}


def decode(value: object, where: str) -> dict[str, float]:
    """{"keys": [...], "values": [...]} -> {key: value}; errors name `where`."""
    if not isinstance(value, dict) or set(value) != {"keys", "values"}:
        raise MusebenchError(f"{where}: items must be an object with 'keys' and 'values' lists; fix or regenerate the file")
    keys, values = value["keys"], value["values"]
    if not isinstance(keys, list) or not isinstance(values, list) or len(keys) != len(values):
        raise MusebenchError(f"{where}: items 'keys' and 'values' must be lists of the same length")
    if not all(isinstance(k, str) and k for k in keys) or len(set(keys)) != len(keys):
        raise MusebenchError(f"{where}: items 'keys' must be distinct non-empty strings")
    return dict(zip(keys, (number(v, where, "values") for v in values)))


def items_line(row: ResultRow) -> dict:
    """One line of items.jsonl for a row that has items."""
    return {"model": row.model, "params": row.params, "metric": row.metric, **encode(row.items)}


def read_items_file(path: Path) -> dict[tuple[str, str, str], tuple[str, dict[str, float]]]:
    """items.jsonl -> {(model, params key, metric): ("file:line", {key: value})}."""
    found: dict[tuple[str, str, str], tuple[str, dict[str, float]]] = {}
    for where, record in read_jsonl(path):
        if not isinstance(record, dict) or set(record) != set(ITEM_KEYS):
            raise MusebenchError(f"{where}: expected an items record with keys {', '.join(ITEM_KEYS)}; fix or regenerate the file")
        if not isinstance(record["params"], dict):
            raise MusebenchError(f"{where}: key 'params' must be an object, got {record['params']!r}")
        params = json.dumps(record["params"], sort_keys=True, separators=(",", ":"))
        key = (str(record["model"]), params, str(record["metric"]))
        if key in found:
            raise MusebenchError(f"{where}: duplicate items for model={key[0]} metric={key[2]} (first at {found[key][0]})")
        found[key] = (where, decode({"keys": record["keys"], "values": record["values"]}, where))
    return found


def read_items(run_dir: str | Path, row: ResultRow) -> dict[str, float]:
    """The per-item outcomes of `row` in RUN_DIR/items.jsonl; an error when the run has none for it."""
    path = Path(run_dir) / ITEMS_FILE
    if not path.is_file():
        raise MusebenchError(f"{path}: file not found; runs written before results schema 2 have no per-item outcomes, rerun `musebench run`")
    found = read_items_file(path).get(row.key)
    if found is None:
        raise MusebenchError(
            f"{path}: no per-item outcomes for model={row.model} params={format_params(row.params)} metric={row.metric} "
            "(set-level metrics such as FID have none)"
        )
    return found[1]

