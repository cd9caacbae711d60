"""User-supplied weights files: anything but a state dict of the expected keys and shapes is one
line naming the file and what was expected; nothing in a pickle runs (torch.load weights_only=True);
the check_weights functions the run's preflight calls read shapes without building the networks."""

from __future__ import annotations

import json

import pytest
import torch
from bad_inputs.weights_bytes import (MARKER, code_pth, cut_pth, list_pth, nested_pth, tensor_pth, tiny_muse_json,
                                      tiny_muse_weights, torch_bytes)

from musebench.errors import MusebenchError
from musebench.weights_file import STATE_DICT, read_state_dict, tensor_shapes

BAD_PICKLES = [
    ("list.pth", list_pth, f"expected {STATE_DICT}, got list"),
    ("tensor.pth", tensor_pth, f"expected {STATE_DICT}, got Tensor"),
    ("train.pth", nested_pth, f"expected {STATE_DICT}, but key 'model' holds dict"),
    ("text.pth", lambda: b"these are not weights\n" * 3, "not a PyTorch weights file (neither a torch.save zip nor a pickle)"),
    ("cut.pth", cut_pth, "truncated or corrupt PyTorch zip archive ("),
    ("empty.pth", lambda: b"", "empty file (0 bytes)"),
    ("code.pth", code_pth, "refused: its pickle needs code beyond tensors"),
    ("empty_dict.pth", lambda: torch_bytes({}), f"expected {STATE_DICT}, got an empty dict"),
]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the code-running pickle would write MARKER
    return tmp_path


def _one_line(excinfo, path, message) -> None:
    text = str(excinfo.value)
    assert message in text and str(path) in text and "\n" not in text, text


@pytest.mark.parametrize("name, make, message", BAD_PICKLES, ids=[c[0] for c in BAD_PICKLES])
def test_a_pth_that_is_not_a_state_dict_is_one_line(in_tmp, name, make, message):
    path = in_tmp / name
    path.write_bytes(make())
    for read in (lambda: read_state_dict(path, "X"), lambda: tensor_shapes(path, "X")):
        with pytest.raises(MusebenchError) as info:
            read()
        _one_line(info, path, message)
    assert not (in_tmp / MARKER).exists()  # the pickle's code never ran


def test_legacy_pickles_and_safetensors_give_their_shapes(tmp_path):
    from safetensors.torch import save_file

    (tmp_path / "old.pth").write_bytes(torch_bytes({"w": torch.zeros(2, 3)}, legacy=True))  # no mmap for these
    assert tensor_shapes(tmp_path / "old.pth", "X") == {"w": (2, 3)}
    save_file({"w": torch.zeros(4, 1)}, str(tmp_path / "m.safetensors"))
    assert tensor_shapes(tmp_path / "m.safetensors", "X") == {"w": (4, 1)}
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
    for read in (read_state_dict, tensor_shapes):
        with pytest.raises(MusebenchError) as info:
            read(tmp_path / "bad.safetensors", "X")
        _one_line(info, tmp_path / "bad.safetensors", "not a readable safetensors file")


# --- Inception -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inception_zeros(tmp_path_factory):
    """A state dict of zeros with every key and shape of torch-fidelity's Inception-v3."""
    from musebench.metrics.inception import expected_shapes

    state = {k: torch.zeros(shape) for k, shape in expected_shapes().items()}
    path = tmp_path_factory.mktemp("inception") / "zeros.pth"
    torch.save(state, path)
    return path, state


def test_inception_shapes_are_torch_fidelitys(inception_zeros):
    from musebench.metrics.inception import check_weights, expected_shapes

    shapes = expected_shapes()
    assert len(shapes) == 566 and shapes["fc.weight"] == (1008, 2048) and shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    check_weights(inception_zeros[0])  # no error


def test_inception_wrong_shape_and_missing_key(tmp_path, inception_zeros):
    from musebench.metrics.inception import check_weights

    state = dict(inception_zeros[1])
    state["fc.weight"] = torch.zeros(10, 2048)
    torch.save(state, tmp_path / "fc10.pth")
    with pytest.raises(MusebenchError) as info:
        check_weights(tmp_path / "fc10.pth")
    _one_line(info, tmp_path / "fc10.pth", "key fc.weight: shape (10, 2048), expected (1008, 2048)")
    del state["fc.weight"]
    torch.save(state, tmp_path / "nofc.pth")
    with pytest.raises(MusebenchError, match=r"nofc.pth: missing key fc.weight \(1 of 566 expected keys missing\)"):
        check_weights(tmp_path / "nofc.pth")


@pytest.mark.parametrize("name, make, message", BAD_PICKLES[:3] + BAD_PICKLES[4:7], ids=lambda v: v if isinstance(v, str) and ".pth" in v else "")
def test_inception_extractor_refuses_bad_files_without_running_them(in_tmp, name, make, message):
    from musebench.metrics.inception import InceptionExtractor

    (in_tmp / name).write_bytes(make())
    with pytest.raises(MusebenchError) as info:
        InceptionExtractor(str(in_tmp / name))
    _one_line(info, in_tmp / name, message)
    assert "Inception-v3" in str(info.value)
    assert not (in_tmp / MARKER).exists()  # torch-fidelity's own loader (weights_only=False) never saw the file


# --- open_clip pretrained file ---------------------------------------------------------------


def _clip_error(path) -> str:
    from musebench.metrics.extractors import ExtractorSpec, check_weights

    with pytest.raises(MusebenchError) as info:
        check_weights(ExtractorSpec("clip", str(path), "ViT-B-32"))
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    return str(info.value)


def test_clip_pretrained_file_is_checked_against_the_named_model(in_tmp):
    (in_tmp / "list.pt").write_bytes(list_pth())
    assert f"expected {STATE_DICT}, got list" in _clip_error(in_tmp / "list.pt")
    (in_tmp / "code.pt").write_bytes(code_pth())
    assert "refused: its pickle needs code beyond tensors" in _clip_error(in_tmp / "code.pt")
    assert not (in_tmp / MARKER).exists()
    wrapped = {"state_dict": {"module.visual.conv1.weight": torch.zeros(768, 3, 16, 16)}}  # open_clip's own unwrapping
    (in_tmp / "patch16.pt").write_bytes(torch_bytes(wrapped))
    assert "key visual.conv1.weight: shape (768, 3, 16, 16), expected (768, 3, 32, 32) for open_clip 'ViT-B-32'" in _clip_error(in_tmp / "patch16.pt")
    (in_tmp / "other.pt").write_bytes(torch_bytes({"encoder.weight": torch.zeros(2)}))
    assert "no key of open_clip 'ViT-B-32' (found e.g. encoder.weight)" in _clip_error(in_tmp / "other.pt")


# --- probe CLIP checkpoint -------------------------------------------------------------------


@pytest.fixture
def tiny_probe_dir(tmp_path):
    from safetensors.torch import save_model

    from musebench.metrics.probe_model import ProbeConfig, build_clip, save_config

    cfg = ProbeConfig(vision_width=32, vision_layers=1, text_width=32, text_layers=1, embed_dim=16)
    save_config(cfg, tmp_path / "config.json", {})
    torch.manual_seed(0)
    save_model(build_clip(cfg), str(tmp_path / "model.safetensors"))
    return tmp_path


def test_probe_checkpoint_is_checked_from_the_header(tiny_probe_dir):
    from safetensors.torch import load_file, save_file

    from musebench.metrics.probe_model import check_weights, load_probe

    check_weights(str(tiny_probe_dir))
    weights = tiny_probe_dir / "model.safetensors"
    tensors = load_file(str(weights))
    tensors["text_projection"] = torch.zeros(32, 17)
    save_file(tensors, str(weights))
    for call in (check_weights, load_probe):
        with pytest.raises(MusebenchError) as info:
            call(str(tiny_probe_dir))
        _one_line(info, weights, "key text_projection: shape (32, 17), expected (32, 16)")
    weights.write_bytes(weights.read_bytes()[:500])
    for call in (check_weights, load_probe):
        with pytest.raises(MusebenchError) as info:
            call(str(tiny_probe_dir))
        _one_line(info, weights, "not a readable safetensors file")


# --- model checkpoints (reference_model) -----------------------------------------------------


def _tiny_muse(tmp_path, **weights) -> str:
    (tmp_path / "config.json").write_bytes(tiny_muse_json())
    (tmp_path / "model.safetensors").write_bytes(tiny_muse_weights(**weights))
    return str(tmp_path)


@pytest.mark.parametrize("weights, message", [
    ({"reshape": "transformer.head.weight"}, "transformer.head.weight has shape (17, 8) but config.json implies (16, 8)"),
    ({"drop": "vq.quantizer.codebook"}, "weights do not match config.json (missing vq."),
])
def test_checkpoint_weights_that_do_not_fit_the_config(tmp_path, weights, message):
    from musebench.models.checkpoints import check_checkpoint_weights
    from reference_model.checkpoint import load_checkpoint
    from reference_model.errors import ReferenceModelError

    directory = _tiny_muse(tmp_path, **weights)
    with pytest.raises(MusebenchError) as info:
        check_checkpoint_weights(directory)
    assert message in str(info.value) and "model.safetensors" in str(info.value)
    with pytest.raises(ReferenceModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_checkpoint(tmp_path)


def test_checkpoint_check_passes_good_and_shipped_checkpoints(tmp_path):
    from musebench.models.checkpoints import check_checkpoint_weights

    check_checkpoint_weights(_tiny_muse(tmp_path))
    for name in ("muse-shapes", "ldm-shapes", "probe-clip"):
        check_checkpoint_weights(name)


def test_checkpoint_corrupt_safetensors_and_integer_weights(tmp_path):
    from safetensors.torch import load_file, save_file

    from musebench.models.checkpoints import check_checkpoint_weights
    from reference_model.checkpoint import load_checkpoint
    from reference_model.errors import ReferenceModelError

    directory = _tiny_muse(tmp_path)
    weights = tmp_path / "model.safetensors"
    tensors = load_file(str(weights))
    tensors["transformer.head.weight"] = tensors["transformer.head.weight"].to(torch.int64)
    save_file(tensors, str(weights))
    with pytest.raises(ReferenceModelError, match="transformer.head.weight holds torch.int64, expected a floating-point tensor"):
        load_checkpoint(tmp_path)
    weights.write_bytes(b"garbage" * 10)
    with pytest.raises(MusebenchError, match="model.safetensors: unreadable safetensors file"):
        check_checkpoint_weights(directory)
    (tmp_path / "config.json").write_text(json.dumps({"format": "reference_model.muse/1", "model": {}})[:-3])
    with pytest.raises(MusebenchError, match="config.json: not valid JSON"):
        check_checkpoint_weights(directory)


def test_ldm_checkpoint_check_reads_its_own_parts(tmp_path):
    from musebench.models.checkpoints import SHIPPED_DIR, check_checkpoint_weights

    (tmp_path / "config.json").write_bytes((SHIPPED_DIR / "ldm-shapes" / "config.json").read_bytes())
    (tmp_path / "model.safetensors").write_bytes(tiny_muse_weights())  # a Muse's vq.* and transformer.*
    with pytest.raises(MusebenchError, match=r"model.safetensors: weights do not match config.json \((missing|unexpected) "):
        check_checkpoint_weights(str(tmp_path))
