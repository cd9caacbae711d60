"""Reading a user's weights file (.pth/.pt/.bin pickles, .safetensors): the one place it is opened.

Pickles are read with torch.load(weights_only=True): a file whose pickle needs any code beyond
tensors and containers is refused, never executed. What comes out must be a state dict,
dict[str, Tensor]; shapes are compared with what the model expects before anything is loaded into
it. Every problem is one MusebenchError line naming the file, what was found and what was
expected ("expected a state dict of tensors (dict[str, Tensor]), got list";
"key fc.weight: shape (10, 2048), expected (1008, 2048)").

`tensor_shapes(path, what)` reads only what the shapes need (the safetensors header, or the zip's
data.pkl through pth_header.py's restricted unpickler) and never imports torch (issue 23: the
~0.5 GB import before a refusal), so preflight checks stay cheap for 100 MB files. Only files that
reader does not model (legacy pre-zip pickles, quantized or subclassed tensors) go to torch.load.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError

if TYPE_CHECKING:
    import torch

Shapes = dict[str, tuple[int, ...]]
STATE_DICT = "a state dict of tensors (dict[str, Tensor])"


def read_state_dict(path: Path, what: str, mmap: bool = False) -> dict[str, torch.Tensor]:
    """The file's tensors by name; `what` names the expected file in messages (e.g. "Inception-v3 weights")."""
    path = _existing(Path(path), what)
    if path.suffix == ".safetensors":
        return _read_safetensors(path, what)
    return state_dict_of(torch_load_weights(path, what, mmap), path, what)


def tensor_shapes(path: Path, what: str) -> Shapes:
    """{name: shape} of the file's tensors, reading as little as it can."""
    path = _existing(Path(path), what)
    if path.suffix == ".safetensors":
        return _safetensors_shapes(path, what)
    found = pth_object(path, what)
    if found is None:  # a file pth_header does not model: torch decides
        return {k: tuple(v.shape) for k, v in read_state_dict(path, what, mmap=True).items()}
    from musebench.pth_header import Tensor

    return {k: v.shape for k, v in state_dict_of(found, path, what, Tensor).items()}


def pth_object(path: Path, what: str) -> object | None:
    """The object a torch.save file holds, tensors as pth_header.Tensor (shape, dtype), read without
    torch; None for a file only torch can judge; one MusebenchError line for what torch would refuse."""
    from musebench.pth_header import Refused, Undecided, read_pth

    path = _existing(Path(path), what)
    try:
        return read_pth(path)
    except Undecided:
        return None
    except Refused as exc:
        if exc.blocked:
            raise MusebenchError(f"{path}: refused: its pickle needs code beyond tensors ({exc.blocked}; "
                                 f"torch.load weights_only=True); expected {STATE_DICT}, give {what}") from None
        raise MusebenchError(f"{path}: {_kind(path)} ({_reason(exc)}); give {what}") from None


def state_dict_of(obj: object, path: Path, what: str, tensor_type: type | None = None) -> dict:
    """obj itself when it is dict[str, Tensor] (tensor_type: torch.Tensor unless given, e.g. pth_header's
    placeholder); otherwise one line saying what it is."""
    if tensor_type is None:
        import torch

        tensor_type = torch.Tensor
    if not isinstance(obj, Mapping):
        raise MusebenchError(f"{path}: expected {STATE_DICT}, got {type(obj).__name__}; give {what}")
    if not obj:
        raise MusebenchError(f"{path}: expected {STATE_DICT}, got an empty dict; give {what}")
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, tensor_type):
            raise MusebenchError(f"{path}: expected {STATE_DICT}, but key {key!r} holds {type(value).__name__}; give {what}")
    return dict(obj)


def check_shapes(path: Path, found: Shapes, expected: Shapes, what: str) -> None:
    """The first missing, unexpected or misshapen key, as one line."""
    missing = [k for k in expected if k not in found]
    if missing:
        raise MusebenchError(f"{path}: missing key {missing[0]} ({len(missing)} of {len(expected)} expected keys missing); "
                             f"give {what}")
    unexpected = [k for k in found if k not in expected]
    if unexpected:
        raise MusebenchError(f"{path}: unexpected key {unexpected[0]} ({len(unexpected)} keys the model does not have); give {what}")
    for key, shape in expected.items():
        if tuple(found[key]) != tuple(shape):
            raise MusebenchError(f"{path}: key {key}: shape {format_shape(found[key])}, expected {format_shape(shape)}; give {what}")


def _existing(path: Path, what: str) -> Path:
    if not path.is_file():
        raise MusebenchError(f"{path}: not found" + ("" if not path.exists() else " (not a file)") + f"; give {what}")
    if path.stat().st_size == 0:
        raise MusebenchError(f"{path}: empty file (0 bytes); give {what}")
    return path


def torch_load_weights(path: Path, what: str, mmap: bool) -> object:
    """torch.load(weights_only=True) of a user's file; any failure is one line saying what the file is."""
    import pickle

    import torch

    _existing(path, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on odd pickle protocols: the errors below say it
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        blocked = [line for line in str(exc).splitlines() if "GLOBAL" in line]
        if blocked:
            raise MusebenchError(f"{path}: refused: its pickle needs code beyond tensors ({blocked[0].strip()}; "
                                 f"torch.load weights_only=True); expected {STATE_DICT}, give {what}") from None
        raise MusebenchError(f"{path}: {_kind(path)} ({_reason(exc)}); give {what}") from None
    except Exception as exc:  # a garbled file fails anywhere in torch's readers (struct.error, AssertionError, ...)
        if mmap:  # a legacy (pre-zip) pickle cannot be memory mapped; a broken file says more without mmap
            return torch_load_weights(path, what, mmap=False)
        raise MusebenchError(f"{path}: {_kind(path)} ({_reason(exc)}); give {what}") from None


def _kind(path: Path) -> str:
    """What a file torch.load refused looks like, from its first bytes."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        return "truncated or corrupt PyTorch zip archive"
    if head.startswith(b"\x80"):
        return "truncated or corrupt pickle"
    return "not a PyTorch weights file (neither a torch.save zip nor a pickle)"


def _read_safetensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return state_dict_of(load_file(str(path)), path, what)
    except MusebenchError:
        raise
    except Exception as exc:  # safetensors raises SafetensorError, OSError, ValueError for garbled files
        raise MusebenchError(f"{path}: not a readable safetensors file ({_reason(exc)}); give {what}") from None


def _safetensors_shapes(path: Path, what: str) -> Shapes:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:  # numpy: the header only, torch stays unimported
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # as in _read_safetensors
        raise MusebenchError(f"{path}: not a readable safetensors file ({_reason(exc)}); give {what}") from None
    if not shapes:
        raise MusebenchError(f"{path}: expected {STATE_DICT}, got an empty file; give {what}")
    return shapes


def _reason(exc: BaseException) -> str:
    """The first sentence of an exception, for a one-line message."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first.split(". ")[0].rstrip(".")[:160]


def format_shape(shape) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"
