"""LDM checkpoint directory: config.json (LDMConfig under "model") + model.safetensors.

model.safetensors holds `vq.*` (a copy of the Muse tokenizer the latents come from, so the
directory is self-contained) and `denoiser.*` (the EMA weights sampling uses). The text encoder is
frozen and loaded from its own directory (config `text_encoder.path`, default bundled MiniLM-L6).
Every way a checkpoint can be wrong is one ReferenceModelError naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reference_model.checkpoint_files import CONFIG_FILE, WEIGHTS_FILE, check_parts, load_part, read_weights, write_checkpoint
from reference_model.checkpoint_files import read_document as _read_document
from reference_model.errors import ReferenceModelError
from reference_model.ldm.config import LDMConfig, ldm_config_from_dict, to_dict
from reference_model.ldm.param_shapes import ldm_shapes

if TYPE_CHECKING:  # torch and diffusers; check_checkpoint must not import them (issue 23: preflight under 0.5 GB)
    import torch

    from reference_model.tokenizer import VQModel

FORMAT = "reference_model.ldm/1"


def save_checkpoint(out_dir: Path, config: LDMConfig, vq: VQModel, denoiser: torch.nn.Module, metadata: dict) -> None:
    """Write model.safetensors then config.json (each written atomically)."""
    write_checkpoint(out_dir, {"vq": vq, "denoiser": denoiser}, to_dict(config), metadata, FORMAT)


def read_document(directory: Path) -> dict:
    document = _read_document(directory, "an LDM")
    if document.get("format", FORMAT) != FORMAT:
        path = Path(directory) / CONFIG_FILE
        raise ReferenceModelError(f"{path}: format '{document['format']}' is not {FORMAT}; this is not an LDM checkpoint")
    return document


def read_config(directory: Path) -> LDMConfig:
    return ldm_config_from_dict(read_document(directory)["model"], f"{Path(directory) / CONFIG_FILE}:model")


def check_checkpoint(directory: Path) -> LDMConfig:
    """The config, read and checked against the weights' header without loading them (a preflight):
    keys, shapes (param_shapes.py) and float dtypes, with no torch import."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceModelError(f"{directory}: LDM checkpoint directory does not exist")
    config = read_config(directory)
    check_parts(directory, ldm_shapes(config))
    return config


def load_checkpoint(directory: Path) -> tuple[LDMConfig, VQModel, torch.nn.Module]:
    from reference_model.ldm.denoiser import build_denoiser
    from reference_model.tokenizer import VQModel

    directory = Path(directory)
    config = check_checkpoint(directory)
    tensors = read_weights(directory / WEIGHTS_FILE)
    vq, denoiser = VQModel(config.vq), build_denoiser(config.denoiser)
    load_part(vq, tensors, "vq.", directory / WEIGHTS_FILE)
    load_part(denoiser, tensors, "denoiser.", directory / WEIGHTS_FILE)
    return config, vq.eval(), denoiser.eval()
