"""The torch-free weights check (issue 23) agrees with torch: the committed manifests equal the real
networks' state dicts, the probe's shapes written in Python equal open_clip's module, pth_header
reads what torch.load reads, and a bad file is refused without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from bad_inputs.weights_bytes import MARKER, code_pth, cut_pth, list_pth, nested_pth, tensor_pth, torch_bytes

from musebench import pth_header
from musebench.metrics.weight_manifests import CLIP_MODELS, INCEPTION, built_shapes, clip_manifest, read_manifest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [INCEPTION, *(clip_manifest(m) for m in CLIP_MODELS)])
def test_manifest_equals_the_network_built_on_meta(name):
    """A torch-fidelity or open_clip version that renames, reorders or reshapes a key fails here;
    regenerate with python -m musebench.metrics.weight_manifests."""
    assert list(read_manifest(name).items()) == list(built_shapes(name).items())


@pytest.mark.parametrize("cfg", [{}, {"image_size": 64, "patch_size": 16, "vision_width": 64, "vision_layers": 1,
                                     "text_width": 96, "text_heads": 3, "text_layers": 3, "context_length": 8, "embed_dim": 32}])
def test_probe_shapes_equal_open_clips_module(cfg):
    from musebench.metrics.probe_model import ProbeConfig, build_clip, probe_shapes

    config = ProbeConfig(**cfg)
    with torch.device("meta"):
        built = {k: tuple(v.shape) for k, v in build_clip(config).state_dict().items()}
    assert list(probe_shapes(config).items()) == list(built.items())


GOOD = {
    "params": lambda: {"w": torch.nn.Parameter(torch.zeros(2, 3)), "b": torch.ones(3)},
    "dtypes": lambda: {str(d): torch.zeros(2, dtype=d) for d in (torch.float16, torch.bfloat16, torch.int64, torch.bool, torch.float64)},
    "views": lambda: {"row": torch.arange(12.0).view(3, 4)[1], "t": torch.zeros(3, 5).t(), "scalar": torch.tensor(1.0), "none": torch.zeros(0, 4)},
    "module": lambda: torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).state_dict(),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_pth_header_reads_what_torch_load_reads(tmp_path, name):
    path = tmp_path / "w.pth"
    path.write_bytes(torch_bytes(GOOD[name]()))
    ours = pth_header.read_pth(path)
    theirs = torch.load(path, weights_only=True)
    assert list(ours) == list(theirs) and type(ours) is type(theirs)
    assert {k: (v.shape, v.dtype) for k, v in ours.items()} == {k: (tuple(t.shape), str(t.dtype)[6:]) for k, t in theirs.items()}


@pytest.mark.parametrize("make", [list_pth, tensor_pth, nested_pth])
def test_pth_header_gives_the_same_containers(tmp_path, make):
    path = tmp_path / "w.pth"
    path.write_bytes(make())
    assert type(pth_header.read_pth(path)).__name__ == type(torch.load(path, weights_only=True)).__name__


def test_refusals_match_torch_and_run_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, data in (("code", code_pth()), ("cut", cut_pth()), ("text", b"<html>\n"), ("plain", b"\x80\x02}q\x00.")):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(pth_header.Refused):
            pth_header.read_pth(path)
        with pytest.raises(Exception):
            torch.load(path, weights_only=True)
    assert not (tmp_path / MARKER).exists()


def test_a_missing_storage_record_is_refused(tmp_path):
    """A zip whose data/0 record is shorter than its tensor: torch.load fails on it, so do we."""
    import zipfile

    good = tmp_path / "good.pth"
    good.write_bytes(torch_bytes({"w": torch.zeros(64)}))
    bad = tmp_path / "bad.pth"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info)[:8] if info.filename.endswith("/data/0") else src.read(info))
    with pytest.raises(pth_header.Refused, match="shorter than its 64 elements"):
        pth_header.read_pth(bad)


def test_legacy_files_are_left_to_torch(tmp_path):
    path = tmp_path / "old.pth"
    path.write_bytes(torch_bytes({"w": torch.zeros(2)}, legacy=True))
    with pytest.raises(pth_header.Undecided):
        pth_header.read_pth(path)


CHECK = """
import json, sys
from musebench.errors import MusebenchError
from musebench.metrics.extractor_weights import ExtractorSpec, check_weights
out = []
for name, weights in json.loads(sys.argv[1]):
    try:
        check_weights(ExtractorSpec(name, weights, "ViT-B-32"))
        out.append("ok")
    except MusebenchError as exc:
        out.append(str(exc))
print(json.dumps({"torch": "torch" in sys.modules, "errors": out}))
"""


def test_check_weights_refuses_without_importing_torch(tmp_path):
    from musebench.metrics.inception_weights import expected_shapes

    files = {"list.pth": list_pth(), "code.pth": code_pth(), "wrong.pth": torch_bytes({"fc.weight": torch.zeros(2, 2)}),
             "patch.pt": torch_bytes({"visual.conv1.weight": torch.zeros(768, 3, 16, 16)}),
             "good.pth": torch_bytes({k: torch.empty(s) for k, s in expected_shapes().items()})}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    specs = [("inception", str(tmp_path / "list.pth")), ("clip", str(tmp_path / "code.pth")),
             ("inception", str(tmp_path / "wrong.pth")), ("clip", str(tmp_path / "patch.pt")), ("inception", str(tmp_path / "good.pth"))]
    run = subprocess.run([sys.executable, "-c", CHECK, json.dumps(specs)], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(run.stdout)
    assert result["torch"] is False, run.stdout
    expect = ["got list", "refused: its pickle needs code beyond tensors", "missing key Conv2d_1a_3x3.conv.weight (565 of 566",
              "key visual.conv1.weight: shape (768, 3, 16, 16), expected (768, 3, 32, 32)", "ok"]
    assert all(e in got for e, got in zip(expect, result["errors"], strict=True)), result["errors"]
