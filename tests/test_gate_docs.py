"""The CI docs stay runnable: every `musebench gate` command in them parses with the real CLI."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import yaml

from musebench.cli import cmd_gate

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "docs" / "examples" / "github-actions.yml"


def gate_commands(text: str) -> list[list[str]]:
    """`musebench gate ...` command lines in a shell text, backslash continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [shlex.split(line.strip(), comments=True)[2:] for line in joined.splitlines() if line.strip().startswith("musebench gate ")]


def gate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="musebench gate")
    cmd_gate.add_arguments(parser)
    return parser


def test_workflow_is_valid_yaml_with_a_pr_job_and_a_nightly_gpu_job():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers and triggers["schedule"][0]["cron"]
    jobs = workflow["jobs"]
    assert jobs["quickstart-gate"]["runs-on"] == "ubuntu-latest"
    assert "gpu" in jobs["coco-fid-nightly"]["runs-on"]
    runs = [step.get("run", "") for job in jobs.values() for step in job["steps"]]
    assert any("suites/quickstart.yaml" in r for r in runs) and any("suites/coco_fid.yaml" in r for r in runs)


def test_every_gate_command_in_the_docs_parses():
    texts = [WORKFLOW.read_text(), (ROOT / "docs" / "ci.md").read_text(), cmd_gate.EPILOG]
    commands = [cmd for text in texts for cmd in gate_commands(text)]
    assert len(commands) >= 8
    for argv in commands:
        args = gate_parser().parse_args(argv)
        assert args.baseline or args.write_baseline, argv


def _bench(name: str):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_ci_doc_tables_are_the_committed_benchmark_results():
    """docs/ci.md quotes benchmarks/results/*.json through the benchmarks' own --table: no drift."""
    import json

    doc = (ROOT / "docs" / "ci.md").read_text()
    for name in ("gate_sensitivity", "latency_calibration"):
        result = json.loads((ROOT / "benchmarks" / "results" / f"{name}.json").read_text())
        assert _bench(name).markdown_table(result) in doc, f"regenerate with python benchmarks/{name}.py --table"
