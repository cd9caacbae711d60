"""`musebench shapes render|score`: round trip, JSON summary, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from musebench.cli.main import main
from musebench.shapes import ATTRIBUTES, CATEGORIES


def _render(tmp_path: Path, n: int = 12, extra: tuple[str, ...] = ()) -> Path:
    out = tmp_path / "val"
    assert main(["shapes", "render", "--split", "val", "--n", str(n), "--seed", "2", "--out", str(out), *extra]) == 0
    return out


def test_render_then_score_is_all_correct(tmp_path, capsys):
    out = _render(tmp_path, extra=("--geneval", str(tmp_path / "meta.jsonl")))
    assert sorted(p.name for p in out.glob("*.png")) == [f"{i:05d}.png" for i in range(12)]
    lines = [json.loads(line) for line in (out / "prompts.jsonl").read_text().splitlines()]
    assert [line["file"] for line in lines] == [f"{i:05d}.png" for i in range(12)]
    assert {"prompt", "tag", "scene"} <= set(lines[0])
    assert len((tmp_path / "meta.jsonl").read_text().splitlines()) == 12
    capsys.readouterr()
    assert main(["shapes", "score", str(out), "--json", str(tmp_path / "s.json")]) == 0
    table = capsys.readouterr().out
    assert "overall" in table and "100.0%" in table
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["overall"]["all_correct"] == 1.0 and summary["overall"]["n"] == 12
    assert set(summary["by_category"]) == set(CATEGORIES)
    assert set(summary["overall"]) == {"all_correct", "n", *ATTRIBUTES}
    assert summary["by_category"]["position"]["relation"] == 1.0 and "size" not in summary["by_category"]["position"]


def test_score_sees_a_wrong_image(tmp_path, capsys):
    out = _render(tmp_path)
    Image.fromarray(np.full((32, 32, 3), 24, np.uint8)).save(out / "00000.png")  # blank
    assert main(["shapes", "score", str(out), "--json", str(tmp_path / "s.json")]) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["overall"]["all_correct"] == pytest.approx(11 / 12)


def _error(argv: list[str], capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.rstrip("\n").split("\n")[-1]  # earlier lines: the progress bar
    assert err.startswith("musebench: error: ") and "Traceback" not in err
    return err


def test_bad_json_line_names_file_and_line(tmp_path, capsys):
    out = _render(tmp_path, n=3)
    path = out / "prompts.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1][:-5]
    path.write_text("\n".join(lines) + "\n")
    err = _error(["shapes", "score", str(out)], capsys)
    assert f"{path}:2: not valid JSON" in err


def test_bad_images_name_the_file(tmp_path, capsys):
    out = _render(tmp_path, n=3)
    (out / "00001.png").write_bytes((out / "00001.png").read_bytes()[:60])  # RGBA and 16-bit are read (musebench.imageio)
    assert f"{out / '00001.png'}: truncated or corrupt image data" in _error(["shapes", "score", str(out)], capsys)
    Image.new("RGB", (32, 40)).save(out / "00001.png")
    assert f"{out / '00001.png'}: oracle: images must be square" in _error(["shapes", "score", str(out)], capsys)
    (out / "00001.png").unlink()
    assert f"{out / '00001.png'} not found" in _error(["shapes", "score", str(out)], capsys)


def test_bad_render_arguments(tmp_path, capsys):
    out = _render(tmp_path, n=2)
    assert "is not empty; choose a new directory or pass --force" in _error(
        ["shapes", "render", "--split", "val", "--n", "2", "--out", str(out)], capsys
    )
    assert "size must be an integer in [16, 1024]" in _error(
        ["shapes", "render", "--split", "val", "--n", "2", "--size", "4", "--out", str(tmp_path / "x")], capsys
    )
    assert not (tmp_path / "x").exists()  # nothing half-written
    assert "--n -1: render 1 to 1,000,000 prompts" in _error(["shapes", "render", "--split", "val", "--n", "-1", "--out", str(tmp_path / "y")], capsys)
    assert "no prompts.jsonl" not in _error(["shapes", "score", str(tmp_path / "nope")], capsys)


def test_cli_exit_code_and_help_in_a_subprocess(tmp_path):
    run = subprocess.run([sys.executable, "-m", "musebench", "shapes", "score", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 2 and "prompts.jsonl not found" in run.stderr and "Traceback" not in run.stderr
    helptext = subprocess.run([sys.executable, "-m", "musebench", "shapes", "--help"], capture_output=True, text=True)
    assert helptext.returncode == 0 and "musebench shapes render --split val" in helptext.stdout
