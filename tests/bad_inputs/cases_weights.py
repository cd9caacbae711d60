"""Bad weights files wherever a user supplies one: the Inception .pth, an open_clip pretrained file,
a probe checkpoint, a model checkpoint directory for `generate --model` and a suite's checkpoint:.
Each is one line naming the file and what was expected (issue 23: a .pth that is not a state dict
was an UnpicklingError traceback); a pickle that would run code is refused, never run."""

from __future__ import annotations

import torch

from bad_inputs.case import Case
from bad_inputs.image_bytes import rgb_png
from bad_inputs.weights_bytes import (code_pth, cut_pth, list_pth, nested_pth, tensor_pth, tiny_muse_json,
                                      tiny_muse_weights, torch_bytes)

STATE = "expected a state dict of tensors (dict[str, Tensor])"
IMAGES = {"a/0.png": rgb_png, "a/1.png": rgb_png}
PROMPTS = '{"prompt": "a red circle"}\n'


def _metric(extractor: str, weights_name: str, content, expect: str, *extra: str) -> Case:
    """`musebench metrics fid A A --extractor X --weights W`."""
    return Case(argv=("metrics", "fid", "{tmp}/a", "{tmp}/a", "--extractor", extractor, "--weights", f"{{tmp}}/{weights_name}",
                      "--allow-small-n", *extra), expect=expect, files={**IMAGES, weights_name: content}, tiny_registry=False)


def _inception(content, expect: str) -> Case:
    return _metric("inception", "w.pth", content, expect)


def _clip(content, expect: str) -> Case:
    return _metric("clip", "clip.pt", content, expect, "--model", "ViT-B-32")


def _probe(weights, expect: str) -> Case:
    """A probe checkpoint directory: the shipped config.json with other weights."""
    from musebench.metrics.probe_model import CONFIG_FILE
    from musebench.models.checkpoints import SHIPPED_DIR

    config = (SHIPPED_DIR / "probe-clip" / CONFIG_FILE).read_text()
    return Case(argv=("metrics", "fid", "{tmp}/a", "{tmp}/a", "--extractor", "probe", "--weights", "{tmp}/probe", "--allow-small-n"),
                expect=expect, files={**IMAGES, "probe/config.json": config, "probe/model.safetensors": weights},
                tiny_registry=False)


def _generate(config, weights, expect: str) -> Case:
    """`musebench generate --model DIR` with DIR's config.json and model.safetensors."""
    files = {"p.jsonl": PROMPTS, "ck/config.json": config}
    if weights is not None:
        files["ck/model.safetensors"] = weights
    return Case(argv=("generate", "--model", "{tmp}/ck", "--prompts", "{tmp}/p.jsonl", "--out", "{tmp}/out"),
                expect=expect, files=files, tiny_registry=False)


def _suite(weights, expect: str) -> Case:
    """`musebench run` of a suite whose muse model's checkpoint: is the bad directory."""
    suite = ("version: 1\nname: badck\nseed: 0\nmodels:\n  m: {adapter: muse, checkpoint: {tmp}/ck, params: {steps: 2}}\n"
             "prompts: {source: shapes, split: val, limit: 2}\nmetrics:\n  oracle: {}\n")
    return Case(argv=("run", "{tmp}/bad.yaml", "--out", "{tmp}/run"), expect=expect,
                files={"bad.yaml": suite, "ck/config.json": tiny_muse_json, "ck/model.safetensors": weights}, tiny_registry=False)


def _ldm_config() -> bytes:
    from musebench.models.checkpoints import SHIPPED_DIR

    return (SHIPPED_DIR / "ldm-shapes" / "config.json").read_bytes()


def _half(make):
    return lambda: make()[: len(make()) // 2]


def _int_head() -> bytes:
    from safetensors.torch import load, save

    tensors = load(tiny_muse_weights())
    tensors["transformer.head.weight"] = tensors["transformer.head.weight"].to(torch.int64)
    return save(tensors)


CASES: dict[str, Case] = {
    "inception_list": _inception(list_pth, f"w.pth: {STATE}, got list"),
    "inception_tensor": _inception(tensor_pth, f"w.pth: {STATE}, got Tensor"),
    "inception_training_checkpoint": _inception(nested_pth, f"w.pth: {STATE}, but key 'model' holds dict"),
    "inception_code_pickle": _inception(code_pth, "w.pth: refused: its pickle needs code beyond tensors"),
    "inception_truncated_zip": _inception(cut_pth, "w.pth: truncated or corrupt PyTorch zip archive"),
    "inception_not_a_pickle": _inception(lambda: b"<html>404 Not Found</html>\n", "w.pth: not a PyTorch weights file"),
    "inception_empty": _inception(lambda: b"", "w.pth: empty file (0 bytes)"),
    "inception_wrong_keys": _inception(lambda: torch_bytes({"fc.weight": torch.zeros(2, 2)}),
                                       "w.pth: missing key Conv2d_1a_3x3.conv.weight (565 of 566 expected keys missing)"),
    "clip_list": _clip(list_pth, f"clip.pt: {STATE}, got list"),
    "clip_wrong_patch": _clip(lambda: torch_bytes({"visual.conv1.weight": torch.zeros(768, 3, 16, 16)}),
                              "clip.pt: key visual.conv1.weight: shape (768, 3, 16, 16), expected (768, 3, 32, 32)"),
    "clip_other_model": _clip(lambda: torch_bytes({"encoder.weight": torch.zeros(2)}), "clip.pt: no key of open_clip 'ViT-B-32'"),
    "clip_code_pickle": _clip(code_pth, "clip.pt: refused: its pickle needs code beyond tensors"),
    "probe_truncated": _probe(_half(lambda: tiny_muse_weights()), "probe/model.safetensors: not a readable safetensors file"),
    "probe_other_weights": _probe(lambda: tiny_muse_weights(), "probe/model.safetensors: missing key"),
    "generate_truncated": _generate(tiny_muse_json, _half(lambda: tiny_muse_weights()), "ck/model.safetensors: unreadable safetensors file"),
    "generate_garbage": _generate(tiny_muse_json, lambda: b"\xff" * 64, "ck/model.safetensors: unreadable safetensors file"),
    "generate_wrong_shape": _generate(tiny_muse_json, lambda: tiny_muse_weights(reshape="transformer.head.weight"),
                                      "transformer.head.weight has shape (17, 8) but config.json implies (16, 8)"),
    "generate_missing_key": _generate(tiny_muse_json, lambda: tiny_muse_weights(drop="vq.quantizer.codebook"),
                                      "weights do not match config.json (missing vq.quantizer.codebook)"),
    "generate_other_width": _generate(lambda: tiny_muse_json(width=16), lambda: tiny_muse_weights(),
                                      "transformer.blocks.0.cross_attn.kv.bias has shape (16,) but config.json implies (32,)"),
    "generate_integer_weights": _generate(tiny_muse_json, _int_head, "transformer.head.weight holds torch.int64, expected a floating-point tensor"),
    "generate_ldm_config_muse_weights": _generate(_ldm_config, lambda: tiny_muse_weights(), "ck/model.safetensors: weights do not match config.json"),
    "generate_no_weights": _generate(tiny_muse_json, None, "ck/model.safetensors: missing"),
    "suite_checkpoint_wrong_shape": _suite(lambda: tiny_muse_weights(reshape="transformer.head.weight"),
                                           "transformer.head.weight has shape (17, 8) but config.json implies (16, 8)"),
    "suite_checkpoint_truncated": _suite(_half(lambda: tiny_muse_weights()), "ck/model.safetensors: unreadable safetensors file"),
}
