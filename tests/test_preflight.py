"""Preflight: gate power and FID sample size are checked before any model, image or directory."""

from __future__ import annotations

import pytest

from musebench.cli.main import main
from musebench.stats.power import minimum_detectable_drop, n_for_drop

QUICKSTART = "suites/quickstart.yaml"


def test_validate_prints_each_gates_detectable_drop(capsys):
    assert main(["validate", QUICKSTART]) == 0
    out = capsys.readouterr().out
    detectable = minimum_detectable_drop(300, 0.8, power=0.8, alpha=0.025, sides=1)
    assert f"detects a drop of {detectable:.3f} with 80 % power at N=300 (rate 0.8)" in out
    assert f"needs N >= {n_for_drop(0.8, 0.1, alpha=0.025)}" in out


def test_an_underpowered_gate_is_refused_with_the_n_it_needs(capsys):
    assert main(["validate", QUICKSTART, "--set", "prompts.limit=150"]) == 2
    err = capsys.readouterr().err
    assert "gates[0] on oracle/all_correct: max_drop 0.1 is below the smallest drop this suite can detect" in err
    assert f"use N >= {n_for_drop(0.8, 0.1, alpha=0.025)} (prompts.limit)" in err and "low_power_ok: true" in err


def test_low_power_ok_acknowledges_it(tmp_path, capsys):
    suite = tmp_path / "s.yaml"
    suite.write_text(f"include: {__import__('pathlib').Path(QUICKSTART).resolve()}\n"
                     "prompts: {limit: 150}\n"
                     "gates:\n  - {metric: oracle/all_correct, model: muse, max_drop: 0.1, expected_rate: 0.8, low_power_ok: true}\n")
    assert main(["validate", str(suite)]) == 0
    assert "(low_power_ok)" in capsys.readouterr().out


def test_run_refuses_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", QUICKSTART, "--set", "prompts.limit=150", "--out", str(out), "--cache", str(tmp_path / "c")]) == 2
    assert "smallest drop this suite can detect" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "c").exists()


@pytest.mark.parametrize("limit", [100])
def test_fid_below_the_feature_dimension_is_refused_at_the_suite_line(limit, capsys):
    assert main(["validate", QUICKSTART, "--set", f"prompts.limit={limit}", "--set", "gates=[]"]) == 2
    assert "suites/quickstart.yaml:" in (err := capsys.readouterr().err) and "N=100 generated images is below the feature dimension D=128" in err
