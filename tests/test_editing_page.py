"""scripts/editing_page.py: joining the editing benchmark's files and the page it writes (issue 26 item 5)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("editing_page", ROOT / "scripts" / "editing_page.py")
editing_page = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editing_page)


def result_file(path: Path, start: int, methods: dict[str, str]) -> Path:
    """A benchmarks/editing.py file with per-edit verdicts `bits` for keys recolor/<method>."""
    items = {f"recolor/{m}": {"success": bits, "preserved": "1" * len(bits), "changed_outside": [0.0] * len(bits)}
             for m, bits in methods.items()}
    data = {"command": f"python benchmarks/editing.py --start {start}", "items_from": start, "seed": 0,
            "mask_free_rounds": 1, "items": items, "seconds": 1.0, "git": "x", "machine": {},
            "definitions": {"source_images": "renders", "prompt": "caption", "changed_outside": "c", "region": "r",
                            "mask_free": "m", "keeps_pixels": "k"}}
    path.write_text(json.dumps(data))
    return path


def run(tmp_path: Path, *files: Path) -> int:
    return editing_page.main(["--results", *map(str, files), "--joined", str(tmp_path / "j.json"),
                              "--out", str(tmp_path / "page"), "--examples", "0"])


def test_files_split_by_items_and_methods_join_in_item_order(tmp_path):
    a = result_file(tmp_path / "a.json", 0, {"source": "00", "inpaint": "10"})
    b = result_file(tmp_path / "b.json", 0, {"source": "00", "mask_free/1": "11"})
    c = result_file(tmp_path / "c.json", 2, {"source": "0", "inpaint": "1", "mask_free/1": "0"})
    assert run(tmp_path, c, a, b) == 0
    joined = json.loads((tmp_path / "j.json").read_text())
    assert joined["items"]["recolor/inpaint"]["success"] == "101"
    assert joined["items"]["recolor/mask_free/1"]["success"] == "110"
    assert joined["results"]["recolor/inpaint"]["success"]["n"] == 3
    page = (tmp_path / "page" / "index.md").read_text()
    assert "| recolor | inpaint | 3 | 0.667 [" in page and "success_vs_preservation.png" in page


def test_gaps_and_disagreements_are_refused_with_one_line(tmp_path):
    a = result_file(tmp_path / "a.json", 0, {"source": "00"})
    gap = result_file(tmp_path / "gap.json", 3, {"source": "0"})
    with pytest.raises(SystemExit, match="covers items 0..1 but the next file starts at 3"):
        run(tmp_path, a, gap)
    other = result_file(tmp_path / "other.json", 0, {"source": "01"})
    with pytest.raises(SystemExit, match="give recolor/source from item 0 differently"):
        run(tmp_path, a, other)
    overlap = result_file(tmp_path / "overlap.json", 1, {"source": "1"})
    with pytest.raises(SystemExit, match="recolor/source items 1..1 differ between two files"):
        run(tmp_path, a, overlap)


def test_overlapping_files_agreeing_on_the_overlap_join_once(tmp_path):
    a = result_file(tmp_path / "a.json", 0, {"source": "000", "inpaint": "101"})
    b = result_file(tmp_path / "b.json", 2, {"source": "00", "inpaint": "10"})
    assert run(tmp_path, a, b) == 0
    assert json.loads((tmp_path / "j.json").read_text())["items"]["recolor/inpaint"]["success"] == "1010"


OTHER_MODELS = ("editing_ldm.json",)  # the committed page's --other files (reports/README.md's command)


def test_another_models_file_gets_its_table_and_a_paired_test_against_muse(tmp_path):
    muse = result_file(tmp_path / "muse.json", 0, {"source": "0000", "inpaint": "1100"})
    other = result_file(tmp_path / "ldm.json", 0, {"source": "0000", "inpaint": "0000"})
    document = json.loads(other.read_text())
    document.update({"model": "ldm-shapes", "not_available": ["mask_free"]})
    other.write_text(json.dumps(document))
    assert editing_page.main(["--results", str(muse), "--other", str(other), "--joined", str(tmp_path / "j.json"),
                              "--out", str(tmp_path / "page"), "--examples", "0"]) == 0
    page = (tmp_path / "page" / "index.md").read_text()
    assert "## The same suite on ldm-shapes" in page and "(recorded, not run): mask_free" in page
    assert "ldm-shapes inpainting minus muse-shapes inpainting" in page
    assert "| recolor | success | 4 | -0.500 [" in page and "| 2 / 0 |" in page and "muse-shapes only / ldm-shapes only" in page


def test_committed_page_is_the_committed_results_rendered():
    """reports/editing/index.md cannot drift from benchmarks/results/editing.json (STATISTICS.md: prose from a file)."""
    data = json.loads((ROOT / "benchmarks" / "results" / "editing.json").read_text())
    others = [editing_page.load_other(ROOT / "benchmarks" / "results" / name) for name in OTHER_MODELS]
    text = editing_page.page(data, ("success_vs_preservation.png", "success_vs_preservation.pdf"),
                             ("before_after.png", "before_after.pdf"), others)
    assert (ROOT / "reports" / "editing" / "index.md").read_text() == text
    assert min(r["success"]["n"] for r in data["results"].values()) >= 1000  # the N per edit type and method
