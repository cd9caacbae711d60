"""musebench gate: pass, fail, noise within the interval, latency ratios, JUnit, baselines.

Every test writes its own results.jsonl + run.json (the runner's schema, docs/architecture.md)
and runs the real CLI entry point `musebench.cli.main.main([...])`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest, norm

from musebench.cli.main import main
from musebench.gate import load_baseline, load_run
from musebench.results.schema import parse_row
from musebench.gate.rule import FAIL, NOISE, PASS, check_drop
from musebench.gate.spec import GateSpec

GATES = [
    {"metric": "oracle/all_correct", "model": "muse", "min": 0.5, "max_drop": 0.05},
    {"metric": "latency/ratio", "max_rel_drop": 0.25},
]


def row(metric="oracle/all_correct", value=0.9, ci95=(0.85, 0.95), model="muse", params=None, hib=None, suite="quickstart"):
    """One results.jsonl row; latency rows are lower-is-better."""
    return {
        "suite": suite,
        "model": model,
        "params": {"steps": 12, "guidance": 2.0} if params is None else params,
        "metric": metric,
        "value": value,
        "n": 64,
        "ci95": list(ci95) if ci95 is not None else None,
        "higher_is_better": (not metric.startswith("latency/")) if hib is None else hib,
        "extra": {},
    }


def quality_and_latency(acc=0.9, acc_ci=(0.85, 0.95), ratio=2.0, ratio_ci=(1.9, 2.1), params=None):
    return [row(value=acc, ci95=acc_ci, params=params), row("latency/ratio", ratio, ratio_ci, params=params)]


def write_run(run_dir: Path, rows: list[dict], gates=None, suite="quickstart", suite_hash="abc123") -> Path:
    """A run directory as `musebench run --out run_dir` leaves it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "results.jsonl").open("w") as handle:
        for record in rows:
            handle.write(json.dumps(record) + "\n")
    run_json = {
        "suite_name": suite,
        "suite_path": f"suites/{suite}.yaml",
        "suite_hash": suite_hash,
        "suite": {"name": suite, "gates": GATES if gates is None else gates},
        "git_commit": "0123456789abcdef",
        "versions": {"python": "3.11", "torch": "2.14.1"},
        "device": "cpu",
        "started": "2026-11-27T10:00:00Z",
        "finished": "2026-11-27T10:03:00Z",
    }
    (run_dir / "run.json").write_text(json.dumps(run_json))
    return run_dir


def record_baseline(tmp_path: Path, rows: list[dict], **kwargs) -> Path:
    base_run = write_run(tmp_path / "base_run", rows, **kwargs)
    path = tmp_path / "baselines" / "quickstart.jsonl"
    assert main(["gate", str(base_run), "--write-baseline", str(path)]) == 0
    return path


def gate(run_dir: Path, baseline: Path, *extra: str) -> int:
    return main(["gate", str(run_dir), "--baseline", str(baseline), *extra])


def test_unchanged_run_passes(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency())
    assert gate(run, baseline) == 0
    out = capsys.readouterr().out
    assert "gate PASSED: suite quickstart, 2/2 checks pass" in out
    assert "FAIL" not in out


def test_quality_regression_fails_with_exit_1(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(acc=0.6, acc_ci=(0.5, 0.7)))
    assert gate(run, baseline) == 1
    captured = capsys.readouterr()
    assert "gate FAILED: suite quickstart, 1/2 checks pass" in captured.out
    assert "FAIL: worse by 0.3 (allowed 0.05" in captured.out
    assert captured.err.strip() == "musebench: gate failed: 1 of 2 checks regressed: oracle/all_correct (muse)"


def test_worsening_inside_the_intervals_passes_as_noise(tmp_path, capsys):
    # 0.9 -> 0.82 exceeds max_drop 0.05, but each interval is +-0.08: sqrt(2) * 0.08 = 0.113 > 0.08
    baseline = record_baseline(tmp_path, quality_and_latency(acc_ci=(0.82, 0.98)))
    run = write_run(tmp_path / "run", quality_and_latency(acc=0.82, acc_ci=(0.74, 0.90)))
    assert gate(run, baseline) == 0
    assert "pass (within noise: worse by 0.08 (allowed 0.05, noise +-0.113))" in capsys.readouterr().out


def test_improvement_never_fails(tmp_path):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(acc=0.99, acc_ci=(0.97, 1.0), ratio=1.0, ratio_ci=(0.95, 1.05)))
    assert gate(run, baseline) == 0


def test_latency_ratio_slower_fails_lower_is_better(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(ratio=3.6, ratio_ci=(3.4, 3.8)))  # ~ an extra forward pass
    assert gate(run, baseline) == 1
    assert "latency/ratio (muse)" in capsys.readouterr().err


def test_latency_within_relative_tolerance_passes(tmp_path):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(ratio=2.4, ratio_ci=(2.2, 2.6)))  # +20 % < 25 %
    assert gate(run, baseline) == 0


def test_absolute_min_fails_only_when_whole_interval_is_below(tmp_path):
    gates = [{"metric": "oracle/all_correct", "min": 0.8}]
    below = write_run(tmp_path / "below", [row(value=0.5, ci95=(0.4, 0.6))], gates=gates)
    straddles = write_run(tmp_path / "straddles", [row(value=0.75, ci95=(0.65, 0.85))], gates=gates)
    assert main(["gate", str(below)]) == 1  # absolute gates need no baseline
    assert main(["gate", str(straddles)]) == 0


def test_absolute_max_on_lower_is_better_metric(tmp_path):
    gates = [{"metric": "latency/ratio", "max": 3.0}]
    assert main(["gate", str(write_run(tmp_path / "a", [row("latency/ratio", 3.5, (3.3, 3.7))], gates=gates))]) == 1
    assert main(["gate", str(write_run(tmp_path / "b", [row("latency/ratio", 2.9, (2.7, 3.1))], gates=gates))]) == 0


def test_nan_value_fails(tmp_path, capsys):
    gates = [{"metric": "oracle/all_correct", "min": 0.1}]
    run = write_run(tmp_path / "run", [row(value=float("nan"), ci95=None)], gates=gates)
    assert main(["gate", str(run)]) == 1
    assert "value is nan: the metric was not computed" in capsys.readouterr().out


def test_changed_sweep_point_is_compared_and_shown(tmp_path, capsys):
    # a PR that drops steps 12 -> 2: the rows still pair (one row per model and metric)
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(acc=0.3, acc_ci=(0.2, 0.4), params={"steps": 2, "guidance": 2.0}))
    assert gate(run, baseline) == 1
    assert "guidance=2.0 steps=2 (baseline guidance=2.0 steps=12)" in capsys.readouterr().out


def test_gate_without_model_applies_to_every_model(tmp_path, capsys):
    rows = quality_and_latency() + [row("latency/ratio", 1.0, (0.9, 1.1), model="ldm")]
    baseline = record_baseline(tmp_path, rows)
    slowed = quality_and_latency() + [row("latency/ratio", 2.0, (1.9, 2.1), model="ldm")]
    assert gate(write_run(tmp_path / "run", slowed), baseline) == 1
    assert "1 of 3 checks regressed: latency/ratio (ldm)" in capsys.readouterr().err


def test_junit_xml_is_valid_and_lists_failures(tmp_path):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(acc=0.6, acc_ci=(0.5, 0.7)))
    out = tmp_path / "ci" / "gate.xml"
    assert gate(run, baseline, "--junit", str(out)) == 1
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "oracle/all_correct [guidance=2.0 steps=12] min 0.5, drop<=0.05",
        "latency/ratio [guidance=2.0 steps=12] drop<=25%",
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message").startswith("worse by 0.3 (allowed 0.05")
    assert cases[1].find("failure") is None
    assert not list(out.parent.glob(".*.tmp"))  # atomic write left no temp file


def test_write_baseline_records_provenance_and_round_trips(tmp_path):
    rows = quality_and_latency()
    path = record_baseline(tmp_path, rows)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["musebench_baseline"] == 2  # format 2: rows carry their per-item outcomes inline
    assert header["suite_name"] == "quickstart" and header["suite_hash"] == "abc123"
    assert header["metrics"] == ["latency/ratio", "oracle/all_correct"]
    assert header["git_commit"] == "0123456789abcdef"
    assert header["created"].endswith("Z") and header["machine"]["device"] == "cpu"
    baseline = load_baseline(path)
    assert [r.to_json() for r in baseline.rows] == [parse_row(r, "x").to_json() for r in rows]
    assert not list(path.parent.glob(".*.tmp"))


def test_ratchet_writes_new_baseline_only_when_the_gate_passes(tmp_path):
    baseline = record_baseline(tmp_path, quality_and_latency())
    before = baseline.read_text()
    bad = write_run(tmp_path / "bad", quality_and_latency(acc=0.6, acc_ci=(0.5, 0.7)))
    assert gate(bad, baseline, "--write-baseline", str(baseline)) == 1
    assert baseline.read_text() == before
    good = write_run(tmp_path / "good", quality_and_latency(acc=0.92, acc_ci=(0.87, 0.97)))
    assert gate(good, baseline, "--write-baseline", str(baseline)) == 0
    assert load_baseline(baseline).rows[0].value == 0.92


def test_changed_suite_hash_is_a_note_not_an_error(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency(), suite_hash="def456")
    assert gate(run, baseline) == 0
    assert "note: suite file changed since the baseline (hash abc123 -> def456)" in capsys.readouterr().out


def test_rule_uses_the_interval_sides_that_face_each_other():
    # higher is better: current's upper side and baseline's lower side; the far sides are ignored
    spec = GateSpec(metric="m", max_drop=0.0)
    base = parse_row(row("m", 0.9, (0.89, 0.99)), "base")  # below 0.01
    near = parse_row(row("m", 0.85, (0.75, 0.86)), "cur")  # above 0.01: sqrt(2)*0.01 < 0.05
    far = parse_row(row("m", 0.85, (0.84, 0.95)), "cur")  # above 0.10
    assert check_drop(spec, near, base).verdict == FAIL
    assert check_drop(spec, far, base).verdict == NOISE
    assert check_drop(spec, base, base).verdict == PASS


def test_quadrature_rule_equals_a_two_sample_z_test():
    """Symmetric normal intervals (h = 1.96 se): the rule with zero tolerance is the one-sided
    z-test of 'current worse than baseline' at level 2.5 %, computed with scipy."""
    rng = np.random.default_rng(0)
    spec = GateSpec(metric="m", max_drop=0.0)
    z95 = norm.ppf(0.975)
    for _ in range(500):
        base_v, cur_v = rng.uniform(0, 1, size=2)
        se_b, se_c = rng.uniform(0.01, 0.2, size=2)
        base = parse_row(row("m", base_v, (base_v - z95 * se_b, base_v + z95 * se_b)), "b")
        cur = parse_row(row("m", cur_v, (cur_v - z95 * se_c, cur_v + z95 * se_c)), "c")
        p_value = norm.sf((base_v - cur_v) / np.hypot(se_b, se_c))
        expected = FAIL if p_value < 0.025 else (NOISE if cur_v < base_v else PASS)
        assert check_drop(spec, cur, base).verdict == expected


def _wilson_row(hits: int, n: int) -> dict:
    ci = binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    return row("m", hits / n, (ci.low, ci.high))


@pytest.mark.parametrize("max_drop", [0.0, 0.05])
def test_false_alarm_rate_and_power_on_binomial_accuracy(max_drop):
    """Oracle accuracy on n=64 images, Wilson intervals (as musebench.metrics.oracle writes):
    with no true change the gate rarely fires; with a true drop of 0.3 it nearly always does."""
    rng = np.random.default_rng(1234)
    spec = GateSpec(metric="m", max_drop=max_drop)
    n, trials = 64, 1000

    def fail_rate(p_base: float, p_cur: float) -> float:
        base_hits = rng.binomial(n, p_base, size=trials)
        cur_hits = rng.binomial(n, p_cur, size=trials)
        verdicts = [
            check_drop(spec, parse_row(_wilson_row(int(c), n), "c"), parse_row(_wilson_row(int(b), n), "b")).verdict
            for b, c in zip(base_hits, cur_hits)
        ]
        return verdicts.count(FAIL) / trials

    assert fail_rate(0.8, 0.8) <= 0.035  # nominal one-sided 2.5 %
    # power against a true drop of 0.3 matches the normal approximation of the z-test (~0.96)
    se = np.sqrt(0.8 * 0.2 / n + 0.5 * 0.5 / n)
    expected_power = norm.sf(norm.ppf(0.975) - 0.3 / se) if max_drop < 0.3 else 0.0
    assert abs(fail_rate(0.8, 0.5) - expected_power) < 0.04


def test_atomic_writes_get_the_mode_a_plain_open_would(tmp_path):
    """mkstemp's 0600 would make report figures unreadable to a web server or a colleague."""
    import os

    from musebench.cache.atomic import write_atomic

    mask = os.umask(0o027)
    os.umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    written = write_atomic(tmp_path / "atomic.txt", b"x", "--out")
    assert (written.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777) == 0o666 & ~mask
