"""LDM checkpoint directory: config.json (LDMConfig under "model") + model.safetensors.

model.safetensors holds `vq.*` (a copy of the Muse tokenizer the latents come from, so the
directory is self-contained) and `denoiser.*` (the EMA weights sampling uses). The text encoder is
frozen and loaded from its own directory (config `text_encoder.path`, default bundled MiniLM-L6).
Every way a checkpoint can be wrong is one ReferenceModelError naming the file and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from reference_model.errors import ReferenceModelError
from reference_model.ldm.config import LDMConfig, ldm_config_from_dict, to_dict
from reference_model.ldm.denoiser import build_denoiser
from reference_model.tokenizer import VQModel

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT = "reference_model.ldm/1"
TOP_KEYS = ("adapter", "format", "model", "training")


def save_checkpoint(out_dir: Path, config: LDMConfig, vq: VQModel, denoiser: torch.nn.Module, metadata: dict) -> None:
    """Write model.safetensors then config.json (each via a temp file and os.replace)."""
    from safetensors.torch import save_file

    unknown = set(metadata) - set(TOP_KEYS)
    if unknown:
        raise ReferenceModelError(f"save_checkpoint: metadata keys {sorted(unknown)} not in {TOP_KEYS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"vq.{k}": v.detach().contiguous() for k, v in vq.state_dict().items()}
    tensors.update({f"denoiser.{k}": v.detach().contiguous() for k, v in denoiser.state_dict().items()})
    tmp = out_dir / (WEIGHTS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, out_dir / WEIGHTS_FILE)
    document = {**metadata, "format": FORMAT, "model": to_dict(config)}
    tmp = out_dir / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out_dir / CONFIG_FILE)


def read_document(directory: Path) -> dict:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; an LDM checkpoint directory needs {CONFIG_FILE} and {WEIGHTS_FILE}")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceModelError(f"{path}: not valid JSON ({exc}); restore the file from the checkpoint") from None
    if not isinstance(document, dict) or "model" not in document:
        raise ReferenceModelError(f"{path}: no 'model' section; expected top-level keys {', '.join(TOP_KEYS)}")
    for key in document:
        if key not in TOP_KEYS:
            raise ReferenceModelError(f"{path}: unknown top-level key '{key}'; known: {', '.join(TOP_KEYS)}")
    if document.get("format", FORMAT) != FORMAT:
        raise ReferenceModelError(f"{path}: format '{document['format']}' is not {FORMAT}; this is not an LDM checkpoint")
    return document


def read_config(directory: Path) -> LDMConfig:
    return ldm_config_from_dict(read_document(directory)["model"], f"{Path(directory) / CONFIG_FILE}:model")


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; put the checkpoint's {WEIGHTS_FILE} next to its {CONFIG_FILE}")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises several types for truncated files
        raise ReferenceModelError(f"{path}: unreadable safetensors file ({type(exc).__name__}); restore it") from None


def load_part(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> None:
    """Load the `prefix` tensors into module; any key or shape mismatch is one line."""
    wanted = module.state_dict()
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    missing, extra = sorted(set(wanted) - set(given)), sorted(set(given) - set(wanted))
    if missing or extra:
        what = f"missing {prefix}{missing[0]}" if missing else f"unexpected {prefix}{extra[0]}"
        raise ReferenceModelError(f"{path}: weights do not match config.json ({what}); use the config saved with these weights")
    for key, value in given.items():
        if value.shape != wanted[key].shape:
            raise ReferenceModelError(
                f"{path}: {prefix}{key} has shape {tuple(value.shape)}, config.json implies "
                f"{tuple(wanted[key].shape)}; use the config saved with these weights"
            )
    module.load_state_dict(given)


def load_checkpoint(directory: Path) -> tuple[LDMConfig, VQModel, torch.nn.Module]:
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceModelError(f"{directory}: LDM checkpoint directory does not exist")
    config = read_config(directory)
    tensors = _read_weights(directory / WEIGHTS_FILE)
    vq, denoiser = VQModel(config.vq), build_denoiser(config.denoiser)
    load_part(vq, tensors, "vq.", directory / WEIGHTS_FILE)
    load_part(denoiser, tensors, "denoiser.", directory / WEIGHTS_FILE)
    return config, vq.eval(), denoiser.eval()
