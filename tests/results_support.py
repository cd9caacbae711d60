"""Two tiny runs on the same 8 shapes prompts x 2 images: `good` (the real renderer, every oracle
check right) and `broken` (the tiny adapter's noise, every check wrong), for results and compare tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import TESTS

from musebench.metrics.registry import METRICS
from musebench.models.registry import ADAPTER_PARAMS, ADAPTERS
from musebench.runner import RunOptions, run_suite

PAIR_SUITE = """\
version: 1
name: pair
seed: 0
models:
  m: {{adapter: {adapter}}}
prompts: {{source: shapes, split: val, limit: 8, images_per_prompt: 2}}
metrics:
  oracle: {{}}
  clip_score: {{model: probe, variant: cosine, bootstrap: 20}}
  pixel_mean: {{}}
"""


def make_run(root: Path, name: str, adapter: str) -> Path:
    suite = root / f"{name}.yaml"
    suite.write_text(PAIR_SUITE.format(adapter=adapter))
    run_suite(RunOptions(str(suite), out=str(root / name), cache=str(root / "cache")))
    return root / name


@pytest.fixture(scope="session")
def pair_runs(tmp_path_factory) -> dict[str, Path]:
    """{"good": RUN_DIR, "good_again": RUN_DIR, "broken": RUN_DIR}; made once per session (~15 s)."""
    root = tmp_path_factory.mktemp("pair")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(TESTS))
        mp.setitem(ADAPTERS, "tiny", "tiny_adapter:TinyAdapter")
        mp.setitem(ADAPTER_PARAMS, "tiny", "tiny_params:declare")
        mp.setitem(METRICS, "pixel_mean", "tiny_metric")
        return {"good": make_run(root, "good", "real"), "good_again": make_run(root, "good_again", "real"),
                "broken": make_run(root, "broken", "tiny")}
