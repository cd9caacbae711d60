"""`musebench power`: N for a drop, the smallest detectable drop, --json, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musebench.cli.main import main
from musebench.stats.power import minimum_detectable_drop, n_for_drop, n_for_drop_paired


def test_help_shows_the_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["power", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "musebench power --rate 0.85 --drop 0.05 --paired --discordance 0.10" in out


def test_n_for_a_drop_independent_and_paired(capsys):
    assert main(["power", "--rate", "0.85", "--drop", "0.05", "--paired", "--discordance", "0.10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "detect a drop from 85.0 % to 80.0 % (one-sided alpha 0.05, power 80.0 %):"
    assert lines[1].startswith(f"  independent N = {n_for_drop(0.85, 0.05)} images per system   [two independent")
    assert lines[2].startswith(f"  paired      N = {n_for_drop_paired(0.85, 0.05, 0.10)} images   [paired, exact McNemar")
    assert lines[3] == "  (paired assumes the systems disagree on 10.0 % of images)"


def test_without_discordance_only_the_independent_n(capsys):
    assert main(["power", "--rate", "0.85", "--drop", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "N = 714 images per system" in out and "paired" not in out


def test_minimum_detectable_drop_json(capsys):
    argv = ["power", "--rate", "0.85", "--n", "300", "--discordance", "0.1", "--sides", "2", "--alpha", "0.01", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["n"], out["sides"], out["alpha"], out["drop"]) == (300, 2, 0.01, None)
    assert out["independent"]["drop"] == minimum_detectable_drop(300, 0.85, alpha=0.01, sides=2)
    assert out["paired"]["drop"] == minimum_detectable_drop(300, 0.85, alpha=0.01, sides=2, paired=True, discordance=0.1)
    assert out["paired"]["drop"] < out["independent"]["drop"]


def test_minimum_detectable_drop_text(capsys):
    assert main(["power", "--rate", "0.85", "--n", "300"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "N = 300 images at 85.0 % correct (one-sided alpha 0.05, power 80.0 %):"
    assert out[1].startswith("  independent smallest detectable drop 7.9 points")


@pytest.mark.parametrize("argv, message", [
    (["--rate", "1.5", "--drop", "0.05"], "--rate 1.5: must lie strictly between 0 and 1, e.g. 0.85"),
    (["--rate", "0", "--n", "100"], "--rate 0.0: must lie strictly between 0 and 1, e.g. 0.85"),
    (["--rate", "nan", "--n", "100"], "--rate nan: must be a finite number"),
    (["--rate", "0.85", "--drop", "0"], "--drop 0.0: must be > 0 and below the rate 0.85 (a drop in the share of correct images, e.g. 0.05 for 5 points)"),
    (["--rate", "0.85", "--drop", "0.9"], "--drop 0.9: must be > 0 and below the rate 0.85 (a drop in the share of correct images, e.g. 0.05 for 5 points)"),
    (["--rate", "0.85", "--drop", "inf"], "--drop inf: must be a finite number"),
    (["--rate", "0.85", "--n", "1"], "--n 1: need a whole number of images >= 2"),
    (["--rate", "0.85", "--drop", "0.05", "--discordance", "0.01"],
     "--discordance 0.01: the share of items on which the systems disagree must lie in [0.05, 0.35] at rate 0.85 and drop 0.05 "
     "(at least the drop itself; measure it on a pilot run)"),
    (["--rate", "0.85", "--drop", "0.05", "--paired"],
     "--paired needs --discordance PSI: the share of images on which the two systems disagree (measure it on a pilot run), "
     "e.g. --discordance 0.10"),
    (["--rate", "0.85", "--drop", "0.05", "--power", "1"], "--power 1.0: must lie in [0.5, 1), e.g. 0.8"),
    (["--rate", "0.85", "--drop", "0.05", "--alpha", "0.7"], "--alpha 0.7: must be below 0.5 (a one-sided test level), e.g. 0.05"),
    (["--rate", "0.85", "--n", "3", "--discordance", "0.1"], "--n 3: too few images: not even a drop of 0.1 is detected with power 0.8"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(["power", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"musebench: error: {message}\n" and captured.out == ""


@pytest.mark.parametrize("argv", [["--rate", "0.85"], ["--rate", "0.85", "--drop", "0.05", "--n", "100"], ["--drop", "0.05"]])
def test_missing_or_conflicting_flags_exit_2(argv, capsys):
    assert main(["power", *argv]) == 2  # argparse's errors are one line like the rest
    err = capsys.readouterr().err
    assert err.startswith("musebench: error: musebench power: ") and err.count("\n") == 1, err


def test_the_example_in_docs_is_what_the_command_prints(capsys):
    docs = (Path(__file__).resolve().parent.parent / "docs" / "statistics.md").read_text()
    block = docs.split("$ musebench power ", 1)[1].split("```", 1)[0]
    argv, expected = block.split("\n", 1)
    assert main(["power", *argv.split()]) == 0
    assert capsys.readouterr().out == expected
