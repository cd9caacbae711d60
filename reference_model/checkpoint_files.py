"""What every reference-model checkpoint directory shares: config.json + model.safetensors.

The Muse (reference_model.checkpoint) and LDM (reference_model.ldm.checkpoint) formats differ only
in their config class and the module prefixes in the weights file; writing, reading and checking
the two files is done here once. Every way a directory can be wrong is one ReferenceModelError
naming the file and the fix.

The preflight half (read_document, read_header, check_parts) never imports torch (issue 23: a bad
checkpoint is refused before torch's ~0.5 GB import): it compares the safetensors header with the
keys and shapes the config implies (param_shapes.py). Writing and loading import torch inside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from reference_model.atomic_file import write_atomic_text, write_atomic_via
from reference_model.errors import ReferenceModelError

if TYPE_CHECKING:
    import torch

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOP_KEYS = ("adapter", "format", "model", "training")  # top-level keys config.json may hold
# safetensors dtype names -> torch's (messages name a file's dtype as load_part would); the float ones
TORCH_DTYPES = {"BOOL": "torch.bool", "U8": "torch.uint8", "I8": "torch.int8", "I16": "torch.int16", "U16": "torch.uint16",
                "I32": "torch.int32", "U32": "torch.uint32", "I64": "torch.int64", "U64": "torch.uint64",
                "F16": "torch.float16", "BF16": "torch.bfloat16", "F32": "torch.float32", "F64": "torch.float64",
                "F8_E4M3": "torch.float8_e4m3fn", "F8_E5M2": "torch.float8_e5m2", "C64": "torch.complex64"}
FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64", "F8_E4M3", "F8_E5M2"})
PARAM_DTYPE = "torch.float32"  # every parameter and buffer of the reference modules (tests/test_param_shapes.py)


class TensorEntry(NamedTuple):
    """One tensor of a safetensors header: shape and dtype name ("F32", "I64", ...)."""

    shape: tuple[int, ...]
    dtype: str


def write_checkpoint(out_dir: Path, parts: dict[str, torch.nn.Module], model_config: dict, metadata: dict,
                     fmt: str) -> None:
    """Weights of each part under `<prefix>.`, then config.json; each written atomically (atomic_file)."""
    from safetensors.torch import save_file

    unknown = set(metadata) - set(TOP_KEYS)
    if unknown:
        raise ReferenceModelError(f"save_checkpoint: metadata keys {sorted(unknown)} not in {TOP_KEYS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {f"{prefix}.{k}": v.detach().contiguous() for prefix, module in parts.items()
               for k, v in module.state_dict().items()}
    write_atomic_via(out_dir / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp), metadata={"format": fmt}))
    document = {**metadata, "format": fmt, "model": model_config}
    write_atomic_text(out_dir / CONFIG_FILE, json.dumps(document, indent=2) + "\n")


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


def read_header(path: Path) -> dict[str, TensorEntry]:
    """{key: (shape, dtype)} from the safetensors header alone, keys sorted; no tensor data read.
    framework="numpy" keeps torch unimported; safetensors validates the header and the file size
    (a truncated file) exactly as load_file will."""
    from safetensors import safe_open

    if not path.is_file():
        raise ReferenceModelError(f"{path}: missing; put the checkpoint's {WEIGHTS_FILE} next to its {CONFIG_FILE}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            slices = {k: f.get_slice(k) for k in f.keys()}
            return {k: TensorEntry(tuple(s.get_shape()), s.get_dtype()) for k, s in slices.items()}
    except Exception as exc:  # as in read_weights
        raise ReferenceModelError(
            f"{path}: unreadable safetensors file ({type(exc).__name__}); the file is corrupt, restore it"
        ) from None


def check_part(wanted: dict[str, tuple[int, ...]], shapes: dict[str, tuple[int, ...]], prefix: str, path: Path) -> None:
    """Every `prefix` key of `wanted` (a module's keys without the prefix -> shape) in `shapes` at its
    shape, and no other; one line otherwise."""
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


def not_float(path: Path, key: str, dtype: str, wanted_dtype: str) -> ReferenceModelError:
    return ReferenceModelError(f"{path}: {key} holds {dtype}, expected a floating-point tensor "
                               f"({wanted_dtype}); the file is not this model's weights")


def check_parts(directory: Path, parts: dict[str, dict[str, tuple[int, ...]]]) -> None:
    """`parts` ({prefix: {key: shape}} from param_shapes.py) checked against the safetensors header
    part by part, keys and shapes then dtypes, as load_part checks the loaded tensors: a config that
    does not fit its weights (depth 500 for a depth-4 file) is refused without torch or any tensor."""
    path = Path(directory) / WEIGHTS_FILE
    header = read_header(path)
    shapes = {k: entry.shape for k, entry in header.items()}
    for prefix, wanted in parts.items():
        check_part(wanted, shapes, prefix, path)
        for key, entry in header.items():
            if key.startswith(prefix) and entry.dtype not in FLOAT_DTYPES:
                raise not_float(path, key, TORCH_DTYPES.get(entry.dtype, f"safetensors dtype {entry.dtype}"), PARAM_DTYPE)


def load_part(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, path: Path) -> None:
    """Load the `prefix` tensors into module; any key, shape or dtype mismatch is one line."""
    wanted = module.state_dict()
    check_part({k: tuple(v.shape) for k, v in wanted.items()}, {k: tuple(v.shape) for k, v in tensors.items()}, prefix, path)
    given = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    for key, value in given.items():
        if wanted[key].is_floating_point() and not value.is_floating_point():
            raise not_float(path, prefix + key, str(value.dtype), str(wanted[key].dtype))
    module.load_state_dict(given)
