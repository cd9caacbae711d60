"""Checkpoint directory: config.json (MuseConfig under "model") + model.safetensors (vq.*, transformer.*).

The text encoder is not stored: it is frozen and loaded from its own directory (config
`text_encoder.path`, default the bundled MiniLM-L6). Every way a checkpoint can be wrong (missing
file, unreadable JSON or safetensors, weights that do not match the config) is one
ReferenceModelError naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from reference_model.checkpoint_files import (CONFIG_FILE, TOP_KEYS, WEIGHTS_FILE, check_parts, load_part, read_document,
                                              read_weights, write_checkpoint)
from reference_model.config import MuseConfig, muse_config_from_dict, to_dict
from reference_model.errors import ReferenceModelError
from reference_model.param_shapes import muse_shapes

if TYPE_CHECKING:  # the modules import torch; check_checkpoint must not (issue 23: preflight under 0.5 GB)
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

FORMAT = "reference_model.muse/1"
METADATA_KEYS = TOP_KEYS


def save_checkpoint(out_dir: Path, config: MuseConfig, vq: VQModel, transformer: MaskedTransformer,
                    metadata: dict) -> None:
    """Write config.json (with `metadata`, e.g. {"adapter": "muse"}) and model.safetensors, atomically."""
    write_checkpoint(out_dir, {"vq": vq, "transformer": transformer}, to_dict(config), metadata, FORMAT)


def read_config(directory: Path) -> MuseConfig:
    document = read_document(directory, "a Muse")
    return muse_config_from_dict(document["model"], f"{Path(directory) / CONFIG_FILE}:model")


def check_checkpoint(directory: Path) -> MuseConfig:
    """The config, read and checked against the weights' header without loading them (a preflight):
    keys, shapes (param_shapes.py) and float dtypes, with no torch import."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceModelError(f"{directory}: checkpoint directory does not exist")
    config = read_config(directory)
    check_parts(directory, muse_shapes(config))
    return config


def load_checkpoint(directory: Path) -> tuple[MuseConfig, VQModel, MaskedTransformer]:
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    directory = Path(directory)
    config = check_checkpoint(directory)
    tensors = read_weights(directory / WEIGHTS_FILE)
    vq, transformer = VQModel(config.vq), MaskedTransformer(config.transformer)
    load_part(vq, tensors, "vq.", directory / WEIGHTS_FILE)
    load_part(transformer, tensors, "transformer.", directory / WEIGHTS_FILE)
    return config, vq.eval(), transformer.eval()
