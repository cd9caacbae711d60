"""Suites: YAML files -> frozen, validated dataclasses (see docs/suites.md)."""

from musebench.suite.load import load_suite, suite_to_dict, suite_hash
from musebench.suite.parse import sweep_points
from musebench.suite.schema import GateSpec, MetricSpec, ModelSpec, PromptsSpec, ReportSpec, Suite, SweepSpec

__all__ = [
    "GateSpec", "MetricSpec", "ModelSpec", "PromptsSpec", "ReportSpec", "Suite", "SweepSpec",
    "load_suite", "suite_hash", "suite_to_dict", "sweep_points",
]
