"""Explicit registry of model adapters: suite `adapter:` name -> "module:Class".

Each class has `from_spec(checkpoint: str | None, device: str) -> ModelAdapter`.
Imports happen only when an adapter is used, so a missing optional dependency of one adapter
never breaks the others.
"""

from __future__ import annotations

import difflib
import importlib

from musebench.errors import MusebenchError

ADAPTERS: dict[str, str] = {
    "muse": "musebench.models.muse:MuseAdapter",  # reference Muse (reference_model/)
    "ldm": "musebench.models.ldm:LDMAdapter",  # matched latent diffusion baseline
    "diffusers": "musebench.models.diffusers_pipeline:DiffusersAdapter",  # any local pipeline
    "real": "musebench.models.real:RealAdapter",  # the data's own images: the ceiling
}


def adapter_class(name: str):
    if name not in ADAPTERS:
        close = difflib.get_close_matches(name, ADAPTERS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MusebenchError(f"unknown adapter '{name}'{hint}; known: {', '.join(ADAPTERS)}")
    module_name, class_name = ADAPTERS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_adapter(name: str, checkpoint: str | None, device: str = "cpu"):
    return adapter_class(name).from_spec(checkpoint, device)


def load_model(name_or_dir: str, device: str = "cpu"):
    """Checkpoint name/dir -> adapter instance: config.json "adapter", or diffusers' model_index.json."""
    import json
    from pathlib import Path

    from musebench.models.checkpoints import resolve_checkpoint

    path = Path(name_or_dir).expanduser()
    if path.is_dir() and (path / "model_index.json").is_file():
        return load_adapter("diffusers", str(path), device)
    directory = resolve_checkpoint(name_or_dir)
    try:
        adapter = json.loads((directory / "config.json").read_text()).get("adapter")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        raise MusebenchError(f"{directory / 'config.json'}: not a JSON object; restore the checkpoint's config") from None
    if not isinstance(adapter, str):
        raise MusebenchError(f"{directory / 'config.json'}: no \"adapter\" key; add e.g. \"adapter\": \"muse\"")
    return load_adapter(adapter, str(directory), device)
