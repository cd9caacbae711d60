"""Super-resolution checkpoint directory: config.json (SuperResConfig under "model", the base
checkpoint it was trained on under "training.base") + model.safetensors (vq.*, sr.*).

Same two files and the same torch-free preflight as the base model's (checkpoint_files.py); the
base model is a checkpoint of its own, named by the cascade that uses both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reference_model.checkpoint_files import (CONFIG_FILE, WEIGHTS_FILE, check_parts, load_part, read_document,
                                              read_weights, write_checkpoint)
from reference_model.config import SuperResConfig, super_res_config_from_dict, to_dict
from reference_model.errors import ReferenceModelError
from reference_model.param_shapes import super_res_shapes

if TYPE_CHECKING:
    from reference_model.super_res import SuperResTransformer
    from reference_model.tokenizer import VQModel

FORMAT = "reference_model.muse_sr/1"


def save_sr_checkpoint(out_dir: Path, config: SuperResConfig, vq: VQModel, sr: SuperResTransformer,
                       metadata: dict) -> None:
    write_checkpoint(out_dir, {"vq": vq, "sr": sr}, to_dict(config), metadata, FORMAT)


def read_config(directory: Path) -> SuperResConfig:
    """The config alone (torch-free, weights unread)."""
    document = _document(Path(directory))
    return super_res_config_from_dict(document["model"], f"{Path(directory) / CONFIG_FILE}:model")


def read_base(directory: Path) -> str:
    """The base checkpoint the stage was trained on (training.base): a shipped name or a directory."""
    base = _document(Path(directory)).get("training", {}).get("base")
    if not isinstance(base, str) or not base:
        raise ReferenceModelError(f"{Path(directory) / CONFIG_FILE}: no training.base naming the base Muse checkpoint; "
                                  "add it (a shipped name such as muse-shapes, or a directory)")
    return base


def _document(directory: Path) -> dict:
    document = read_document(directory, "a super-resolution")
    if document.get("format") != FORMAT:
        raise ReferenceModelError(f"{directory / CONFIG_FILE}: format {document.get('format')!r} is not {FORMAT!r}; "
                                  "give a super-resolution checkpoint (python -m recipes.muse_sr writes one)")
    return document


def check_checkpoint(directory: Path) -> SuperResConfig:
    """The config, read and checked against the weights' header (no torch import)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceModelError(f"{directory}: super-resolution checkpoint directory does not exist")
    config = read_config(directory)
    check_parts(directory, super_res_shapes(config))
    return config


def load_sr_checkpoint(directory: Path) -> tuple[SuperResConfig, VQModel, SuperResTransformer]:
    from reference_model.super_res import SuperResTransformer
    from reference_model.tokenizer import VQModel

    directory = Path(directory)
    config = check_checkpoint(directory)
    tensors = read_weights(directory / WEIGHTS_FILE)
    vq, sr = VQModel(config.vq), SuperResTransformer(config)
    load_part(vq, tensors, "vq.", directory / WEIGHTS_FILE)
    load_part(sr, tensors, "sr.", directory / WEIGHTS_FILE)
    return config, vq.eval(), sr.eval()
