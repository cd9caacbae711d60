"""Checkpoint directory: config.json (MuseConfig under "model") + model.safetensors (vq.*, transformer.*).

The text encoder is not stored: it is frozen and loaded from its own directory (config
`text_encoder.path`, default the bundled MiniLM-L6). Every way a checkpoint can be wrong (missing
file, unreadable JSON or safetensors, weights that do not match the config) is one
ReferenceModelError naming the file and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from reference_model.config import MuseConfig, muse_config_from_dict, to_dict
from reference_model.errors import ReferenceModelError
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "reference_model.muse/1"
METADATA_KEYS = ("adapter", "format", "model", "training")  # top-level keys config.json may hold


def save_checkpoint(out_dir: Path, config: MuseConfig, vq: VQModel, transformer: MaskedTransformer,
                    metadata: dict) -> None:
    """Write config.json (with `metadata`, e.g. {"adapter": "muse"}) and model.safetensors, atomically."""
    from safetensors.torch import save_file

    unknown = set(metadata) - set(METADATA_KEYS)
    if unknown:
        raise ReferenceModelError(f"save_checkpoint: metadata keys {sorted(unknown)} not in {METADATA_KEYS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"vq.{k}": v.detach().contiguous() for k, v in vq.state_dict().items()}
    tensors.update({f"transformer.{k}": v.detach().contiguous() for k, v in transformer.state_dict().items()})
    tmp = out_dir / (WEIGHTS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, out_dir / WEIGHTS_FILE)
    document = {**metadata, "format": FORMAT, "model": to_dict(config)}
    tmp = out_dir / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out_dir / CONFIG_FILE)


def read_config(directory: Path) -> MuseConfig:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; a Muse checkpoint directory needs {CONFIG_FILE} and {WEIGHTS_FILE}")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceModelError(f"{path}: not valid JSON ({exc}); restore the file from the checkpoint") from exc
    if not isinstance(document, dict) or "model" not in document:
        raise ReferenceModelError(f"{path}: no 'model' section; expected keys {METADATA_KEYS}")
    for key in document:
        if key not in METADATA_KEYS:
            raise ReferenceModelError(f"{path}: unknown top-level key '{key}'; known: {', '.join(METADATA_KEYS)}")
    return muse_config_from_dict(document["model"], f"{path}:model")


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; put the checkpoint's {WEIGHTS_FILE} next to its {CONFIG_FILE}")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises several types for truncated/garbled files
        raise ReferenceModelError(
            f"{path}: unreadable safetensors file ({type(exc).__name__}); the file is corrupt, restore it"
        ) from exc


def _load_part(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> None:
    wanted = module.state_dict()
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing = sorted(set(wanted) - set(given))
    extra = sorted(set(given) - set(wanted))
    if missing or extra:
        what = f"missing {prefix}{missing[0]}" if missing else f"unexpected {prefix}{extra[0]}"
        raise ReferenceModelError(f"{path}: weights do not match config.json ({what}); use the config saved with these weights")
    for key, value in given.items():
        if value.shape != wanted[key].shape:
            raise ReferenceModelError(
                f"{path}: {prefix}{key} has shape {tuple(value.shape)} but config.json implies "
                f"{tuple(wanted[key].shape)}; use the config saved with these weights"
            )
    module.load_state_dict(given)


def load_checkpoint(directory: Path) -> tuple[MuseConfig, VQModel, MaskedTransformer]:
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceModelError(f"{directory}: checkpoint directory does not exist")
    config = read_config(directory)
    tensors = _read_weights(directory / WEIGHTS_FILE)
    vq, transformer = VQModel(config.vq), MaskedTransformer(config.transformer)
    _load_part(vq, tensors, "vq.", directory / WEIGHTS_FILE)
    _load_part(transformer, tensors, "transformer.", directory / WEIGHTS_FILE)
    return config, vq.eval(), transformer.eval()
