"""An open_clip pretrained file, checked before open_clip loads it: a state dict of tensors (torch.load
weights_only=True, or safetensors) whose keys shared with the named model have its shapes, read
against the model's committed manifest (weight_manifests.py) or, for a model without one, the model
built on the meta device (no memory, no weights). For a .pth the shapes come from pth_header.py, so
a bad file is refused before torch is imported (issue 23). open_clip's own loader then
does its key conversions (a {'state_dict': ...} wrapper, 'module.' prefixes, positional-embedding
resizes); anything it still refuses is one line too (clip_reason)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError

if TYPE_CHECKING:
    import torch

CLIP_EXPECTED = "an open_clip checkpoint: a state dict of tensors, or {'state_dict': ...}"


def clip_file(model: str, weights: str | None) -> Path:
    if weights is None or not Path(weights).expanduser().is_file():
        raise MusebenchError(
            f"clip model '{model}' needs a local pretrained file (extractor_weights / pretrained: PATH), got {weights!r}; "
            "musebench never downloads weights: copy the open_clip checkpoint here first"
        )
    return Path(weights).expanduser()


def read_clip_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The pretrained file as open_clip reads it (torch.load weights_only=True or safetensors; a
    {'state_dict': ...} wrapper and DataParallel's 'module.' prefix removed), checked to be tensors."""
    from musebench.weights_file import read_state_dict, state_dict_of, torch_load_weights

    if path.suffix == ".safetensors":
        state = read_state_dict(path, CLIP_EXPECTED)
    else:
        raw = torch_load_weights(path, CLIP_EXPECTED, mmap=True)
        if isinstance(raw, dict) and "state_dict" in raw:
            raw = raw["state_dict"]
        state = state_dict_of(raw, path, CLIP_EXPECTED)
    return _unprefixed(state)


def clip_file_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """{key: shape} of the pretrained file as read_clip_state_dict would give it, without torch (a
    file pth_header.py does not model goes through read_clip_state_dict)."""
    from musebench.pth_header import Tensor
    from musebench.weights_file import pth_object, state_dict_of, tensor_shapes

    if path.suffix == ".safetensors":
        return _unprefixed(tensor_shapes(path, CLIP_EXPECTED))
    raw = pth_object(path, CLIP_EXPECTED)
    if raw is None:
        return {k: tuple(v.shape) for k, v in read_clip_state_dict(path).items()}
    if isinstance(raw, dict) and "state_dict" in raw:
        raw = raw["state_dict"]
    return _unprefixed({k: v.shape for k, v in state_dict_of(raw, path, CLIP_EXPECTED, Tensor).items()})


def _unprefixed(state: dict) -> dict:
    """DataParallel's 'module.' prefix removed, as open_clip's load_state_dict does."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def clip_shapes(model: str) -> dict[str, tuple[int, ...]]:
    """{key: shape} of open_clip's `model`: its committed manifest, else the model on the meta device."""
    from musebench.metrics.weight_manifests import clip_manifest, read_manifest

    name = clip_manifest(model)
    return read_manifest(name) if name is not None else built_clip_shapes(model)


def built_clip_shapes(model: str) -> dict[str, tuple[int, ...]]:
    """{key: shape} of open_clip's `model`, built on the meta device (no memory, no weights)."""
    import open_clip
    import torch
    from open_clip.model import CLIP, CustomTextCLIP

    cfg = open_clip.get_model_config(model)
    if cfg is None:
        raise MusebenchError(f"clip model '{model}': not an open_clip model name; see open_clip.list_models()")
    cls = CustomTextCLIP if cfg.get("custom_text") or "hf_model_name" in cfg.get("text_cfg", {}) else CLIP
    with torch.device("meta"):
        net = cls(**{k: v for k, v in cfg.items() if k != "custom_text"})
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def check_clip_shapes(model: str, path: Path, state: dict[str, tuple[int, ...]]) -> None:
    """`state` maps the file's keys to shapes (clip_file_shapes). Keys the file shares with the model must have its shapes (positional embeddings excepted:
    open_clip resizes them); a file sharing no key is another architecture. Key renames are open_clip's."""
    from musebench.weights_file import format_shape

    expected = clip_shapes(model)
    shared = [k for k in state if k in expected]
    if not shared:
        raise MusebenchError(f"{path}: no key of open_clip '{model}' (found e.g. {next(iter(state))}); give {CLIP_EXPECTED} for {model}")
    for key in shared:
        if tuple(state[key]) != expected[key] and "positional_embedding" not in key:
            raise MusebenchError(f"{path}: key {key}: shape {format_shape(state[key])}, expected {format_shape(expected[key])} "
                                 f"for open_clip '{model}'; give the pretrained file of {model}")


def clip_reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] if lines else type(exc).__name__
