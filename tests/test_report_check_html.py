"""scripts/check_html.py in real headless Chromium: a built report is clean at 1280 px and 390 px (its
tables sort, its contents links land), a broken page is caught.

Skipped where Chromium is not installed (`apt-get install -y chromium`); the script is a tool for
people and for the report's acceptance check, not a CI dependency.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_report_runs import read_rows, write_run

from musebench.report import build_report

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_html.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


def _check(page: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(page), *extra], capture_output=True, text=True, timeout=120)


def test_built_report_has_no_console_errors_and_all_images_load(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    keep = {"fid/probe", "oracle/all_correct", "oracle/holdout", "oracle/counting"}
    rows = [r for r in read_rows(run) if r["metric"] in keep]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    index = build_report([run], tmp_path / "report")
    shot = tmp_path / "shot.png"
    done = _check(index, "--screenshot", str(shot))
    assert done.returncode == 0, done.stdout + done.stderr
    images = len(list(index.parent.glob("*.png")))
    assert done.stdout.strip().endswith(f"{images} images, {images} loaded; 0 problem(s); screenshot {shot}")
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "shot-390.png").read_bytes().startswith(b"\x89PNG")  # the phone width
    assert '<nav class="toc"' in index.read_text(encoding="utf-8")


def test_layout_anchor_and_sorting_problems_are_reported(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
                    'initial-scale=1"><title>t</title></head><body><div style="width:900px">wide</div>'
                    '<div style="width:100px;overflow:hidden;white-space:nowrap">' + "x" * 80 + '</div>'
                    '<a href="#nowhere">x</a><table><thead><tr><th>a</th></tr></thead><tbody><tr><td>2</td></tr>'
                    '<tr><td>1</td></tr></tbody></table></body></html>', encoding="utf-8")
    out = _check(page).stdout
    assert "PROBLEM at 390 px: the page is 908 px wide in a 390 px viewport" in out
    assert 'PROBLEM at 390 px: <div> "wide" reaches 8..908 px' in out
    assert "wide" not in " ".join(line for line in out.splitlines() if line.startswith("PROBLEM at 1280"))  # fits there
    assert 'PROBLEM at 1280 px: <div> "' + "x" * 40 + '" clips its content' in out
    assert "PROBLEM at 1280 px: in-page link to a missing anchor: #nowhere" in out
    assert "PROBLEM table 1 has no sort buttons" in out


def test_broken_page_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>'
                    '<img src="missing.png"><img src="bad.png"><a href="gone.pdf">pdf</a>'
                    '<script>console.error("boom"); notDefined();</script></body></html>', encoding="utf-8")
    done = _check(page)
    assert done.returncode == 1
    out = done.stdout
    assert "PROBLEM link to a missing file: missing.png" in out and "PROBLEM link to a missing file: gone.pdf" in out
    assert "PROBLEM console.error: boom" in out and "ReferenceError: notDefined is not defined" in out
    assert "PROBLEM image failed to load: file://" in out and "bad.png" in out
    assert out.strip().splitlines()[-1].endswith("2 images, 0 loaded; 8 problem(s)")


def test_missing_page_is_exit_2(tmp_path: Path) -> None:
    done = _check(tmp_path / "nope.html")
    assert done.returncode == 2 and "file not found" in done.stderr


COMMITTED = sorted((Path(__file__).resolve().parent.parent / "reports").glob("*/index.html"))


@pytest.mark.parametrize("page", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_every_committed_report_page_passes_at_both_widths(page: Path) -> None:
    """issue 22 "Done when": the Chromium check passes on every committed report page at 1280 and 390 px."""
    done = _check(page)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("0 problem(s)"), done.stdout
