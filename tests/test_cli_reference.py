"""`musebench reference`: real images -> a reference folder with exactly the `real` adapter's crop and resize."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from musebench.cli.main import main
from musebench.metrics.image_folder import load_folder
from musebench.models.real import _load_reference


def _photos(folder, sizes):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, (w, h) in enumerate(sizes):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"COCO_{i:03d}.jpg", quality=90)
    return folder


def test_reference_folder_matches_the_real_adapter_and_resumes(tmp_path, capsys):
    src = _photos(tmp_path / "val", [(64, 48), (40, 80), (50, 50)])
    out = tmp_path / "val_32"
    assert main(["reference", str(src), "--out", str(out), "--size", "32"]) == 0
    assert "3 reference images at 32 px (3 written, 0 already there)" in capsys.readouterr().out
    images = load_folder(out)  # (3, 3, 32, 32), sorted by name
    assert images.shape == (3, 3, 32, 32)
    for i, name in enumerate(sorted(p.name for p in src.iterdir())):
        assert np.array_equal(images[i].permute(1, 2, 0).numpy(), _load_reference(str(src / name), 32))
    manifest = json.loads((out / "REFERENCE.json").read_text())
    assert manifest["size"] == 32 and manifest["count"] == 3 and "bicubic" in manifest["policy"]
    (out / "COCO_001.png").unlink()
    assert main(["reference", str(src), "--out", str(out), "--size", "32"]) == 0
    assert "(1 written, 2 already there)" in capsys.readouterr().out
    assert np.array_equal(load_folder(out).numpy(), images.numpy())


@pytest.mark.parametrize("case, message", [
    ("missing", "not a directory of images"),
    ("empty", "no images (.png, .jpg"),
    ("same", "is the source folder"),
    ("size", "--size 4: must be >= 8 px"),
    ("corrupt", "COCO_001.jpg: not a readable image"),
])
def test_reference_bad_input_is_one_line_and_leaves_no_partial_file(tmp_path, capsys, case, message):
    src = tmp_path / "src"
    if case == "empty":
        src.mkdir()
    elif case != "missing":
        _photos(src, [(20, 20), (20, 20)])
    if case == "corrupt":
        (src / "COCO_001.jpg").write_bytes(b"not a jpeg")
    out = src if case == "same" else tmp_path / "out"
    argv = ["reference", str(src), "--out", str(out), "--size", "4" if case == "size" else "16"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    if case == "corrupt":  # refused from its header before anything is written (musebench.imageio.image_size)
        assert not out.exists()
