"""load_suite(path, --set overrides, --limit) -> Suite; and the suite as a plain, hashable dict."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from musebench.suite.overrides import apply_override
from musebench.suite.parse import parse_suite
from musebench.suite.schema import Suite
from musebench.suite.source import load_tree


def load_suite(path: str | Path, overrides: Sequence[str] = (), limit: int | None = None) -> Suite:
    """Read, merge includes, apply overrides, validate. Raises MusebenchError (file:line) on bad input."""
    tree = load_tree(path)
    for item in overrides:
        apply_override(tree, item)
    if limit is not None:
        apply_override(tree, f"prompts.limit={limit}", flag="--limit")
    return parse_suite(tree, str(path))


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def suite_to_dict(suite: Suite) -> dict:
    """The resolved suite (defaults filled in) as plain JSON data: run.json["suite"]."""
    return _jsonable({
        "version": suite.version,
        "name": suite.name,
        "description": suite.description,
        "seed": suite.seed,
        "batch_size": suite.batch_size,
        "device": suite.device,
        "models": {
            m.name: {
                "adapter": m.adapter, "checkpoint": m.checkpoint, "params": m.params,
                "sweep": {"grid": m.sweep.grid, "zip": m.sweep.zip}, "batch_size": m.batch_size,
            }
            for m in suite.models
        },
        "prompts": dataclasses.asdict(suite.prompts),
        "metrics": {
            m.key: {"metric": m.metric, **(dataclasses.asdict(m.options) if dataclasses.is_dataclass(m.options) else m.raw)}
            for m in suite.metrics
        },
        "gates": [dataclasses.asdict(g) for g in suite.gates],
        "report": {**dataclasses.asdict(suite.report), "title": suite.report.title or suite.name},
    })


def suite_hash(suite: Suite) -> str:
    """sha256 of the resolved suite's canonical JSON: equal hashes, equal protocol."""
    canonical = json.dumps(suite_to_dict(suite), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
