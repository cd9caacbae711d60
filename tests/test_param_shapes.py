"""The pure-Python key -> shape maps (reference_model/param_shapes.py, reference_model/ldm/param_shapes.py)
equal the real modules' state dicts, for the shipped checkpoints' configs and tiny ones.

Why: issue 23's memory bar. check_checkpoint refuses weights that do not fit config.json from these
maps and the safetensors header, without torch's ~0.5 GB import; if the architecture (or diffusers'
PixArt) changes and these maps do not, this test fails instead of the preflight going wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from bad_inputs.weights_bytes import tiny_muse_config
from reference_model.config import MuseConfig, TransformerConfig, VQConfig, muse_config_from_dict
from reference_model.ldm.config import DenoiserConfig, ldm_config_from_dict, matched_config
from reference_model.ldm.denoiser import build_denoiser
from reference_model.ldm.param_shapes import ldm_shapes
from reference_model.param_shapes import muse_shapes
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "musebench" / "checkpoints"


def _state_shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    state = module.state_dict()
    assert all(v.dtype == torch.float32 for v in state.values())  # the preflight expects float32 everywhere
    return {k: tuple(v.shape) for k, v in state.items()}


def _shipped(name: str) -> dict:
    return json.loads((SHIPPED / name / "config.json").read_text())["model"]


TINY_VQ = VQConfig(image_size=16, channels=(8, 16, 8), res_blocks=(1, 2, 0), codebook_size=16, code_dim=4)
MUSE_CONFIGS = {
    "muse-shapes": muse_config_from_dict(_shipped("muse-shapes"), "muse-shapes"),
    "tiny": muse_config_from_dict(tiny_muse_config()["model"], "tiny"),
    "tiny-width16": muse_config_from_dict(tiny_muse_config(width=16)["model"], "tiny"),
    "tiny-refiner-widening-vq": MuseConfig(
        vq=TINY_VQ, transformer=TransformerConfig(vocab_size=16, grid=4, width=8, depth=2, heads=2, mlp_ratio=3,
                                                  text_layers=2, text_length=32)),
}
SHIPPED_LDM = ldm_config_from_dict(_shipped("ldm-shapes"), "ldm-shapes")
LDM_CONFIGS = {
    "ldm-shapes": SHIPPED_LDM,
    "noise-head": matched_config(MUSE_CONFIGS["tiny"]),
    "codes-head-self-condition": matched_config(MUSE_CONFIGS["tiny"], head="codes", self_condition=True),
    "tiny-two-blocks": replace(SHIPPED_LDM, vq=TINY_VQ, denoiser=DenoiserConfig(
        latent_channels=4, grid=4, heads=2, head_dim=4, depth=2, head="codes", codebook_size=16)),
}


def _muse_modules(config: MuseConfig) -> dict[str, torch.nn.Module]:
    return {"vq.": VQModel(config.vq), "transformer.": MaskedTransformer(config.transformer)}


def _ldm_modules(config) -> dict[str, torch.nn.Module]:
    return {"vq.": VQModel(config.vq), "denoiser.": build_denoiser(config.denoiser)}


CASES = {**{f"muse/{k}": (c, muse_shapes, _muse_modules) for k, c in MUSE_CONFIGS.items()},
         **{f"ldm/{k}": (c, ldm_shapes, _ldm_modules) for k, c in LDM_CONFIGS.items()}}


@pytest.mark.parametrize("name", CASES)
def test_shapes_equal_the_modules_state_dict(name):
    config, shapes, modules = CASES[name]
    with torch.device("meta"):  # no memory: only keys, shapes and dtypes are read
        real = {prefix: _state_shapes(module) for prefix, module in modules(config).items()}
    assert shapes(config) == real


def test_safetensors_dtype_names_are_torchs(tmp_path):
    """The preflight names a file's dtype as torch would (torch.int64), from the header's I64."""
    from safetensors.torch import save_file

    from reference_model.checkpoint_files import FLOAT_DTYPES, TORCH_DTYPES, read_header

    dtypes = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.bfloat16,
              torch.float32, torch.float64, torch.float8_e4m3fn, torch.float8_e5m2, torch.complex64]
    save_file({str(i): torch.zeros(2, dtype=d) for i, d in enumerate(dtypes)}, str(tmp_path / "w.safetensors"))
    header = read_header(tmp_path / "w.safetensors")
    for i, dtype in enumerate(dtypes):
        name = header[str(i)].dtype
        assert TORCH_DTYPES[name] == str(dtype) and (name in FLOAT_DTYPES) == dtype.is_floating_point


@pytest.mark.parametrize("module", ["reference_model.checkpoint", "reference_model.ldm.checkpoint"])
def test_check_checkpoint_never_imports_torch(module):
    """Importing the checkpoint module and checking a shipped checkpoint leave torch unimported."""
    name = "muse-shapes" if module == "reference_model.checkpoint" else "ldm-shapes"
    code = (f"import sys; from {module} import check_checkpoint; check_checkpoint({str(SHIPPED / name)!r}); "
            "print(sorted(m for m in ('torch', 'diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
