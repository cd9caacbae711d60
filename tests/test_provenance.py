"""run.json's paths hold no machine's absolute layout (musebench/results/provenance.py)."""

from __future__ import annotations

from pathlib import Path

import musebench
from musebench.results.provenance import portable_argv, portable_path


def test_paths_inside_the_working_directory_are_relative(tmp_path, monkeypatch):
    (tmp_path / "suites").mkdir()
    monkeypatch.chdir(tmp_path)
    assert portable_path(tmp_path / "suites" / "q.yaml") == "suites/q.yaml"
    assert portable_path("suites/q.yaml") == "suites/q.yaml"
    assert portable_path(tmp_path) == "."


def test_shipped_checkpoints_are_named_from_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = Path(musebench.__file__).resolve().parent / "checkpoints" / "muse-shapes"
    assert portable_path(shipped) == "musebench/checkpoints/muse-shapes"


def test_home_is_abbreviated_and_elsewhere_stays_absolute(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path / "home" / "data")
    assert portable_path(home / "cache") == "~/cache"
    assert portable_path("/proc/cpuinfo") == "/proc/cpuinfo"


def test_argv_keeps_the_program_name_and_makes_existing_paths_portable(tmp_path, monkeypatch):
    suite = tmp_path / "s.yaml"
    suite.write_text("x")
    monkeypatch.chdir(tmp_path)
    argv = ["/usr/local/bin/musebench", "run", str(suite), "--out", "/no/such/dir", "--set", "seed=1"]
    assert portable_argv(argv) == ["musebench", "run", "s.yaml", "--out", "/no/such/dir", "--set", "seed=1"]
