"""The metrics' torch-free half of the preflight (runner/early_metrics.py): a metric that says it builds
without torch does, and every metric module imports without torch (the suite loader asks it for its
Options and outputs)."""

from __future__ import annotations

import subprocess
import sys

from musebench.metrics.registry import METRICS, builds_without_torch

PROBE = """
import sys
from musebench.metrics.registry import build_metric, builds_without_torch, metric_module, preflight_metric
from musebench.shapes import sample_prompts
from musebench.suite import MetricSpec
name = sys.argv[1]
module = metric_module(name)
if builds_without_torch(name):
    spec = MetricSpec(key=name, metric=name, options=module.Options(), raw={}, loc="s.yaml:1")
    preflight_metric(spec, build_metric(spec), tuple(sample_prompts("val", 4, 0)))
print("torch" in sys.modules)
"""


def _imports_torch(name: str) -> bool:
    out = subprocess.run([sys.executable, "-c", PROBE, name], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "True"


def test_metric_modules_import_and_declared_ones_build_without_torch():
    for name in ("oracle", "fid", "kid", "clip_score", "latency"):
        assert not _imports_torch(name), name
    assert builds_without_torch("oracle") and set(METRICS) >= {"oracle", "fid", "kid", "clip_score", "latency"}
