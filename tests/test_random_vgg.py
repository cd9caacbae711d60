"""The random-vgg extractor (musebench/metrics/random_vgg.py): pinned weights, the extractor
interface, a refused weights file, and the reason it exists: it sees bicubic blur at 64 px."""

from __future__ import annotations

import json

import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics.extractors import ExtractorSpec, build_extractor, check_weights
from musebench.metrics.stats import fid, stats_from_features
from musebench.metrics.random_vgg import DIM, INPUT_SIZE, random_vgg


def test_weights_are_pinned():
    """Drawn from torch.Generator(0): if torch's generator or this file's draw order changed, cached
    features would silently mean something else; this fails instead (bump CODE_VERSION and re-pin)."""
    net = random_vgg()
    got = [round(float(net[i].weight.flatten()[j]), 6) for i in (0, 2, 5, 7) for j in (0, 1)]
    assert got == [-0.066341, -0.067903, -0.058592, -0.006836, -0.042876, -0.044294, -0.019241, -0.040749]
    assert all(float(net[i].bias.abs().max()) == 0.0 for i in (0, 2, 5, 7))


def test_extractor_interface_and_pinned_embedding():
    ext = build_extractor(ExtractorSpec("random-vgg"))
    assert (ext.name, ext.input_size, ext.dim, ext.crop) == ("random-vgg", INPUT_SIZE, DIM, False)
    assert ext.fingerprint == build_extractor(ExtractorSpec("random-vgg")).fingerprint
    x = (torch.arange(2 * 3 * 64 * 64, dtype=torch.float32).reshape(2, 3, 64, 64) * 7) % 251  # (2, 3, 64, 64)
    feats = ext.embed(x)
    assert feats.shape == (2, DIM) and feats.dtype == torch.float32
    assert [round(float(v), 5) for v in feats[1, :4]] == pytest.approx([0.00001, 0.01052, 0.12664, 0.03289], abs=2e-5)
    assert torch.equal(feats, ext.embed(x))  # deterministic


def test_a_weights_file_is_refused():
    with pytest.raises(MusebenchError, match="random-vgg has no weights file.*remove extractor_weights"):
        check_weights(ExtractorSpec("random-vgg", "some.pth"))
    with pytest.raises(MusebenchError, match="random-vgg has no weights file"):
        build_extractor(ExtractorSpec("random-vgg", "some.pth"))


def test_cli_refuses_weights_with_exit_2(tmp_path, capsys):
    from musebench.cli.main import main

    from PIL import Image

    for i in range(3):
        Image.new("RGB", (64, 64), (40 * i, 0, 0)).save(tmp_path / f"{i}.png")
    assert main(["metrics", "fid", str(tmp_path), str(tmp_path), "--extractor", "random-vgg", "--weights", "x.pth"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "random-vgg has no weights file" in err, err


def test_it_sees_bicubic_blur_the_probe_does_not():
    """Real 64 px val renders vs real 64 px test renders (the floor at this N) against bicubic 2x of the
    same val scenes' 32 px renders: blur moves the features by several floors (measured at N = 500:
    floor 0.00008, bicubic 0.00043)."""
    from musebench.shapes import render, sample_prompts, scene_from_dict
    from reference_model.cascade import bicubic

    def renders(records, size):  # (N, 3, size, size) uint8
        return torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), size)) for r in records]).permute(0, 3, 1, 2)

    ext = build_extractor(ExtractorSpec("random-vgg"))
    val, test = sample_prompts("val", 500, 0), sample_prompts("test", 500, 0)

    def stats(images):
        return stats_from_features(ext.embed(images.float()).double().numpy())  # of (N, 128) features

    ref = stats(renders(test, 64))
    floor = fid(stats(renders(val, 64)), ref)
    blurred = fid(stats(bicubic(renders(val, 32))), ref)
    assert blurred > 3 * floor, json.dumps({"floor": floor, "bicubic": blurred})
