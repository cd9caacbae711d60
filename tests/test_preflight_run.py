"""`musebench run`'s preflight: everything a run needs is checked before its first image, every
problem reported at once, nothing written (issue: a COCO run without Inception weights generated
every image and only then failed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_coco import make_fake_coco

from musebench.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def coco(tmp_path_factory) -> Path:
    return make_fake_coco(tmp_path_factory.mktemp("coco") / "coco")


def _files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("command", ["run", "validate"])
def test_coco_without_weights_stops_before_any_image(command, coco, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSEBENCH_COCO_ROOT", str(coco))
    monkeypatch.setenv("MUSEBENCH_WEIGHTS", str(tmp_path / "no-weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # no hub checkpoint either
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    argv = (["run", str(ROOT / "suites/coco_fid.yaml"), "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "cache")]
            if command == "run" else ["validate", "--deep", str(ROOT / "suites/coco_fid.yaml"), "--cache", str(tmp_path / "cache")])
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    # both missing weights files, each at its suite line, in one report
    assert "2 problems, nothing generated: (1) " in lines[0]
    assert "coco_fid.yaml:50: metrics.fid: Inception weights weights-inception-2015-12-05-6726825d.pth" in lines[0]
    assert "fid30k_protocol.yaml:36: metrics.clip_score: clip model 'ViT-L-14' needs a local pretrained file" in lines[0]
    assert _files(tmp_path) == before  # no run directory, no cache, no index


def test_a_reference_folder_without_images_is_found_before_generating(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    argv = ["run", str(ROOT / "suites/quickstart.yaml"), "--limit", "4", "--out", str(tmp_path / "run"),
            "--cache", str(tmp_path / "cache"), "--set", f"metrics.fid.reference={tmp_path / 'empty'}",
            "--set", "metrics.fid.allow_small_n=true"]
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"reference folder {tmp_path / 'empty'} holds no images" in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


def test_the_disk_check_counts_only_new_images(tmp_path):
    from musebench.errors import MusebenchError
    from musebench.preflight import check_disk

    check_disk(tmp_path, [])  # nothing new: nothing to check
    with pytest.raises(MusebenchError, match="new images need up to .* MiB free"):
        check_disk(tmp_path / "not-yet" / "cache", [100_000] * 10_000)  # 300 TB of raw pixels


def test_kid_reference_folder_of_mixed_sizes_and_a_missing_probe_are_both_reported(tmp_path, monkeypatch, capsys):
    from PIL import Image

    ref = tmp_path / "ref"
    ref.mkdir()
    Image.new("RGB", (32, 32)).save(ref / "a.png")
    Image.new("RGB", (48, 32)).save(ref / "b.png")
    suite = tmp_path / "s.yaml"
    suite.write_text(f"""version: 1
name: k
models:
  real: {{adapter: real}}
prompts: {{source: shapes, split: val, limit: 12}}
metrics:
  kid: {{reference: {ref}, subsets: 10, subset_size: 10}}
  clip_score: {{model: probe, pretrained: {tmp_path / 'no-probe'}}}
""")
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(suite), "--out", str(tmp_path / "run"), "--cache", str(tmp_path / "cache")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("musebench: error: 2 problems, nothing generated: (1) ")
    assert f"s.yaml:7: metrics.kid: {ref / 'b.png'}: size (48, 32) differs from a.png (32, 32)" in line
    assert "s.yaml:8: metrics.clip_score: " in line and "no-probe" in line
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()
