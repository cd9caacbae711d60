"""What every reference-model checkpoint directory shares: config.json + model.safetensors.

The Muse (reference_model.checkpoint) and LDM (reference_model.ldm.checkpoint) formats differ only
in their config class and the module prefixes in the weights file; writing, reading and checking
the two files is done here once. Every way a directory can be wrong is one ReferenceModelError
naming the file and the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from reference_model.errors import ReferenceModelError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOP_KEYS = ("adapter", "format", "model", "training")  # top-level keys config.json may hold


def write_checkpoint(out_dir: Path, parts: dict[str, torch.nn.Module], model_config: dict, metadata: dict,
                     fmt: str) -> None:
    """Weights of each part under `<prefix>.`, then config.json; each via a temp file and os.replace."""
    from safetensors.torch import save_file

    unknown = set(metadata) - set(TOP_KEYS)
    if unknown:
        raise ReferenceModelError(f"save_checkpoint: metadata keys {sorted(unknown)} not in {TOP_KEYS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"{prefix}.{k}": v.detach().contiguous() for prefix, module in parts.items()
               for k, v in module.state_dict().items()}
    tmp = out_dir / (WEIGHTS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": fmt})
    os.replace(tmp, out_dir / WEIGHTS_FILE)
    document = {**metadata, "format": fmt, "model": model_config}
    tmp = out_dir / (CONFIG_FILE + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, out_dir / CONFIG_FILE)


def read_document(directory: Path, kind: str) -> dict:
    """config.json as a dict, its top-level keys checked; `kind` ("a Muse", "an LDM") for messages."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; {kind} checkpoint directory needs {CONFIG_FILE} and {WEIGHTS_FILE}")
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReferenceModelError(f"{path}: not valid JSON ({exc}); restore the file from the checkpoint") from None
    if not isinstance(document, dict) or "model" not in document:
        raise ReferenceModelError(f"{path}: no 'model' section; expected top-level keys {', '.join(TOP_KEYS)}")
    for key in document:
        if key not in TOP_KEYS:
            raise ReferenceModelError(f"{path}: unknown top-level key '{key}'; known: {', '.join(TOP_KEYS)}")
    return document


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; put the checkpoint's {WEIGHTS_FILE} next to its {CONFIG_FILE}")
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises several types for truncated/garbled files
        raise ReferenceModelError(
            f"{path}: unreadable safetensors file ({type(exc).__name__}); the file is corrupt, restore it"
        ) from None


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """{key: shape} from the safetensors header alone (no tensor data read): a cheap check."""
    from safetensors import safe_open

    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; put the checkpoint's {WEIGHTS_FILE} next to its {CONFIG_FILE}")
    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # as in read_weights
        raise ReferenceModelError(
            f"{path}: unreadable safetensors file ({type(exc).__name__}); the file is corrupt, restore it"
        ) from None


def check_part(module: torch.nn.Module, shapes: dict[str, tuple[int, ...]], prefix: str, path: Path) -> None:
    """Every `prefix` key of the module in `shapes` at its shape, and no other; one line otherwise.
    `module` may live on the meta device: only its keys and shapes are read."""
    wanted = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    given = {k[len(prefix):]: tuple(v) for k, v in shapes.items() if k.startswith(prefix)}
    missing, extra = sorted(set(wanted) - set(given)), sorted(set(given) - set(wanted))
    if missing or extra:
        what = f"missing {prefix}{missing[0]}" if missing else f"unexpected {prefix}{extra[0]}"
        raise ReferenceModelError(f"{path}: weights do not match config.json ({what}); use the config saved with these weights")
    for key, shape in given.items():
        if shape != wanted[key]:
            raise ReferenceModelError(
                f"{path}: {prefix}{key} has shape {shape} but config.json implies "
                f"{wanted[key]}; use the config saved with these weights"
            )


def check_parts(directory: Path, build_parts) -> None:
    """`build_parts()` -> {prefix: module} built on the meta device (no memory) and checked against
    the safetensors header (no tensor read): a config that does not fit its weights (depth 500 for a
    depth-4 file) is refused before any real module is allocated."""
    with torch.device("meta"):
        parts = build_parts()
    path = Path(directory) / WEIGHTS_FILE
    shapes = header_shapes(path)
    for prefix, module in parts.items():
        check_part(module, shapes, prefix, path)


def load_part(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> None:
    """Load the `prefix` tensors into module; any key, shape or dtype mismatch is one line."""
    check_part(module, {k: tuple(v.shape) for k, v in tensors.items()}, prefix, path)
    wanted = module.state_dict()
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    for key, value in given.items():
        if wanted[key].is_floating_point() and not value.is_floating_point():
            raise ReferenceModelError(f"{path}: {prefix}{key} holds {value.dtype}, expected a floating-point tensor "
                                      f"({wanted[key].dtype}); the file is not this model's weights")
    module.load_state_dict(given)
