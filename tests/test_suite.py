"""Suites: YAML -> frozen dataclasses; include:, ${VAR:-default}, --set, sweeps, resolved dict and hash."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from musebench.errors import MusebenchError
from musebench.suite import load_suite, suite_hash, suite_to_dict, sweep_points

BASE = """\
version: 1
seed: 7
prompts: {source: shapes, split: val, limit: 8}
metrics:
  oracle: {confidence: 0.9}
report: {grid_prompts: 2}
"""

MAIN = """\
include: base.yaml
name: demo
models:
  muse:
    adapter: muse
    checkpoint: muse-shapes
    params: {guidance: 2.0}
    sweep:
      grid: {steps: [4, 8]}
      zip: {temperature: [1.0, 0.5], scheduler: [cosine, linear]}
  real: {adapter: real}
prompts:
  limit: ${MB_TEST_LIMIT:-4}
  path: ${MB_TEST_UNSET_ROOT:-data}/prompts.txt
gates:
  - {metric: oracle/all_correct, model: muse, min: 0.5, max_drop: 0.05}
"""


@pytest.fixture
def suite_path(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE)
    path = tmp_path / "main.yaml"
    path.write_text(MAIN)
    return path


def test_include_merges_and_local_keys_win(suite_path, monkeypatch):
    monkeypatch.delenv("MB_TEST_LIMIT", raising=False)
    suite = load_suite(suite_path)
    assert suite.name == "demo" and suite.seed == 7  # seed from the include
    assert suite.prompts.split == "val" and suite.prompts.limit == 4  # merged mapping, local limit
    assert suite.metrics[0].options.confidence == 0.9
    assert suite.report.grid_prompts == 2 and suite.report.title is None
    assert [m.name for m in suite.models] == ["muse", "real"]
    assert suite.gates[0].max_drop == 0.05
    with pytest.raises(dataclasses.FrozenInstanceError):
        suite.seed = 1  # type: ignore[misc]


def test_env_expansion_types_plain_scalars(suite_path, monkeypatch):
    monkeypatch.setenv("MB_TEST_LIMIT", "6")
    suite = load_suite(suite_path)
    assert suite.prompts.limit == 6  # an int, as if written out
    # a relative path is relative to the suite file that wrote it
    assert Path(suite.prompts.path).resolve() == (suite_path.parent / "data" / "prompts.txt").resolve()


def test_sweep_is_grid_times_zip_in_declaration_order(suite_path):
    muse = load_suite(suite_path).models[0]
    assert sweep_points(muse) == [
        {"guidance": 2.0, "steps": 4, "temperature": 1.0, "scheduler": "cosine"},
        {"guidance": 2.0, "steps": 4, "temperature": 0.5, "scheduler": "linear"},
        {"guidance": 2.0, "steps": 8, "temperature": 1.0, "scheduler": "cosine"},
        {"guidance": 2.0, "steps": 8, "temperature": 0.5, "scheduler": "linear"},
    ]


def test_overrides_are_typed_by_the_schema(suite_path):
    suite = load_suite(suite_path, [
        "name=123", "seed=3", "models.muse.params.guidance=3.5", "models.muse.sweep.grid.steps=[2, 4, 6]",
        "report.title=null", "gates.0.min=0.25", "metrics.oracle.confidence=0.99",
    ], limit=5)
    assert suite.name == "123"  # a str field keeps the text
    assert suite.seed == 3 and suite.prompts.limit == 5
    assert suite.models[0].params == {"guidance": 3.5}
    assert suite.models[0].sweep.grid == {"steps": (2, 4, 6)}
    assert suite.gates[0].min == 0.25 and suite.metrics[0].options.confidence == 0.99


def test_resolved_dict_and_hash(suite_path):
    suite = load_suite(suite_path)
    data = suite_to_dict(suite)
    assert data["gates"] == [{"metric": "oracle/all_correct", "model": "muse", "min": 0.5, "max": None,
                              "max_drop": 0.05, "max_rel_drop": None, "expected_rate": None, "low_power_ok": False}]
    assert data["report"] == {"title": "demo", "grid_prompts": 2, "plots": None, "equivalence_margin": 0.02}
    assert data["metrics"]["oracle"] == {"metric": "oracle", "confidence": 0.9}
    assert suite_hash(suite) == suite_hash(load_suite(suite_path))
    assert suite_hash(suite) != suite_hash(load_suite(suite_path, ["seed=8"]))


def test_metric_entries_can_share_a_metric_with_different_options(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("  oracle: {confidence: 0.9}", "  strict: {metric: oracle, confidence: 0.99}\n  loose: {metric: oracle}")
                    + "models:\n  real: {adapter: real}\n")
    suite = load_suite(path)
    assert [(m.key, m.metric, m.options.confidence) for m in suite.metrics] == [("strict", "oracle", 0.99), ("loose", "oracle", 0.95)]


@pytest.mark.parametrize("text, message", [
    ("version: 1\nmodels:\n  m: {adapter: real}\nprompts: {source: shapes, limit: 2}\nmetrics: {oracle: {}}\nrport: {}\n",
     "s.yaml:6: unknown key 'rport' (did you mean 'report'?)"),
    ("version: 1\nmodels:\n  m: {adapter: real, sweep: {grid: {size: 32}}}\nprompts: {source: shapes, limit: 2}\nmetrics: {oracle: {}}\n",
     "s.yaml:3: models.m.sweep.grid.size: expected a non-empty list of values"),
    ("version: 1\nmodels:\n  m.2: {adapter: real}\nprompts: {source: shapes, limit: 2}\nmetrics: {oracle: {}}\n",
     "models.m.2: a model name cannot contain '.' (--set models.NAME... could not reach it); rename it, e.g. m_2"),
])
def test_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(MusebenchError) as info:
        load_suite(path)
    assert message in str(info.value)


def test_docs_examples_parse(tmp_path, monkeypatch):
    """Every suite in docs/suites.md parses: blocks named `# suites/<file>` are written under that
    name (so the include example resolves); each block with `models:` is loaded."""
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "suites.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", docs, re.S)
    monkeypatch.delenv("COCO_ROOT", raising=False)
    paths = []
    for i, block in enumerate(blocks):
        named = re.match(r"# suites/(\S+\.yaml)", block)
        path = tmp_path / (named.group(1) if named else f"doc{i}.yaml")
        path.write_text(block)
        paths.append(path)
    loaded = [load_suite(p) for p, b in zip(paths, blocks) if ("version: 1" in b or "include:" in b) and "models:" in b]
    assert len(loaded) >= 2 and all(s.models for s in loaded)
    small = load_suite(tmp_path / "muse_small.yaml")
    assert small.prompts.limit == 16 and small.prompts.split == "val" and small.metrics[0].metric == "oracle"
