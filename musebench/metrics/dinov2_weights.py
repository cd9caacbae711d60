"""The `dinov2` extractor's folder checked without torch: the preflight half of dinov2.py.

The folder is the user's own (musebench never downloads DINOv2): a transformers `save_pretrained`
folder of a Dinov2Model, i.e. config.json (model_type "dinov2") and model.safetensors or
pytorch_model.bin (or a sharded index of either). check_folder reads the config and the weights
file's header only (weights_file.tensor_shapes) and says in one line what is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

from musebench.errors import MusebenchError

CONFIG_FILE = "config.json"
WEIGHTS_FILES = ("model.safetensors", "pytorch_model.bin")  # transformers' single-file names, preferred first
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")  # sharded save_pretrained
EXPECTED = "a transformers save_pretrained folder of a Dinov2Model (config.json with model_type 'dinov2' and model.safetensors or pytorch_model.bin)"
CLS_KEY = "embeddings.cls_token"  # Dinov2Model's state dict: shape (1, 1, hidden_size)
BASE_PREFIX = "dinov2."  # a task model's (Dinov2ForImageClassification) keys; from_pretrained strips it


def dinov2_folder(weights: str | None) -> Path:
    """The folder named by extractor_weights / --weights; it must exist (never looked up elsewhere)."""
    if not weights:
        raise MusebenchError(f"extractor 'dinov2' needs extractor_weights: DIR (--weights DIR), {EXPECTED}; musebench never downloads it")
    directory = Path(weights).expanduser()
    if not directory.is_dir():
        found = "not a folder" if directory.exists() else "not found"
        raise MusebenchError(f"dinov2 weights {directory}: {found}; give {EXPECTED}")
    return directory


def read_config(directory: Path) -> dict:
    """config.json of the folder, checked to be a DINOv2 config with a hidden_size."""
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise MusebenchError(f"dinov2 weights {directory}: no {CONFIG_FILE}; give {EXPECTED}")
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MusebenchError(f"{path}: not readable JSON ({exc}); give {EXPECTED}") from None
    if not isinstance(config, dict) or config.get("model_type") != "dinov2" or not isinstance(config.get("hidden_size"), int):
        found = config.get("model_type") if isinstance(config, dict) else type(config).__name__
        raise MusebenchError(f"{path}: model_type {found!r}, expected 'dinov2' with an integer hidden_size; give {EXPECTED}")
    return config


def weights_file(directory: Path) -> Path | None:
    """The single weights file transformers would load, or None for a sharded folder (an index file)."""
    for name in WEIGHTS_FILES:
        if (directory / name).is_file():
            return directory / name
    if any((directory / name).is_file() for name in INDEX_FILES):
        return None
    raise MusebenchError(f"dinov2 weights {directory}: no {' or '.join(WEIGHTS_FILES + INDEX_FILES)}; give {EXPECTED}")


def hidden_size(weights: str | None) -> int:
    """The feature dimension: config.json's hidden_size (the CLS token's width)."""
    return int(read_config(dinov2_folder(weights))["hidden_size"])


def check_folder(weights: str | None) -> None:
    """The folder holds a DINOv2 config and weights whose CLS token has the config's width (the
    weights file's header only). MusebenchError, one line naming the folder, otherwise."""
    from musebench.weights_file import check_shapes, tensor_shapes

    directory = dinov2_folder(weights)
    width = int(read_config(directory)["hidden_size"])
    path = weights_file(directory)
    if path is not None:
        found = tensor_shapes(path, EXPECTED)
        cls = [found[k] for k in (CLS_KEY, BASE_PREFIX + CLS_KEY) if k in found]
        check_shapes(path, {CLS_KEY: cls[0]} if cls else {}, {CLS_KEY: (1, 1, width)}, EXPECTED)
