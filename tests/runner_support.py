"""Shared helpers for the core's tests (suite, plan, cache, runner, CLI): tiny suites and CLI calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from musebench.metrics.registry import METRICS
from musebench.models.registry import ADAPTER_PARAMS, ADAPTERS

TESTS = Path(__file__).resolve().parent
TINY_CLI = TESTS / "tiny_cli.py"

# 2 tiny sweep points + the real ceiling, 6 shapes prompts x 2 images, 32 px.
TINY_SUITE = """\
version: 1
name: tiny
seed: 0
batch_size: {batch_size}
models:
  tiny:
    adapter: tiny
    params: {{guidance: 1}}
    sweep:
      grid: {{steps: [1, 2]}}
  real: {{adapter: real}}
prompts: {{source: shapes, split: val, limit: {limit}, images_per_prompt: 2}}
metrics:
  pixel_mean: {{}}
  pixel_red: {{metric: pixel_mean, channel: r}}
gates:
  - {{metric: pixel_mean/all, model: tiny, min: 0.0}}
"""


@pytest.fixture
def tiny_registry(monkeypatch):
    """The tests' tiny adapter and metric, registered the way tests/tiny_cli.py does for subprocesses."""
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setitem(ADAPTERS, "tiny", "tiny_adapter:TinyAdapter")
    monkeypatch.setitem(ADAPTER_PARAMS, "tiny", "tiny_params:declare")
    monkeypatch.setitem(METRICS, "pixel_mean", "tiny_metric")


def write_suite(directory: Path, batch_size: int = 4, limit: int = 6, name: str = "tiny.yaml") -> Path:
    path = directory / name
    path.write_text(TINY_SUITE.format(batch_size=batch_size, limit=limit))
    return path


def run_subprocess(args: list[str], env_extra: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, str(TINY_CLI), *args], capture_output=True, text=True, env=env, timeout=timeout)


def start_subprocess(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(TINY_CLI), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
