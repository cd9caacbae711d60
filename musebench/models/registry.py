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
    "muse-cascade": "musebench.models.cascade:CascadeAdapter",  # base Muse + super-resolution stage
    "ldm": "musebench.models.ldm:LDMAdapter",  # matched latent diffusion baseline
    "diffusers": "musebench.models.diffusers_pipeline:DiffusersAdapter",  # any local pipeline
    "real": "musebench.models.real:RealAdapter",  # the data's own images: the ceiling
}

# adapter name -> "module:function": checkpoint (name, directory or None) -> its Declared sampler
# parameters (models/declared.py), read from the checkpoint's files without torch. An adapter not
# listed (diffusers: its parameters are its pipeline's call signature) is checked once loaded.
ADAPTER_PARAMS: dict[str, str] = {
    "muse": "musebench.models.adapter_params:muse",
    "muse-cascade": "musebench.models.adapter_params:cascade",
    "ldm": "musebench.models.adapter_params:ldm",
    "real": "musebench.models.adapter_params:real",
}


def declared_params(adapter: str, checkpoint: str | None):
    """The adapter's Declared params for this checkpoint, torch-free; None: known only once loaded."""
    if adapter not in ADAPTER_PARAMS:
        return None
    module_name, function = ADAPTER_PARAMS[adapter].split(":")
    return getattr(importlib.import_module(module_name), function)(checkpoint)


def declared_for_model(name_or_dir: str):
    """`musebench generate --model`'s declaration, before the model is loaded (None: diffusers)."""
    adapter, directory = model_adapter(name_or_dir)
    return declared_params(adapter, str(directory))


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
    adapter, directory = model_adapter(name_or_dir)
    return load_adapter(adapter, str(directory), device)


def model_adapter(name_or_dir: str):
    """A checkpoint name/dir -> (its config.json "adapter", its directory), the config and weights
    checked from their files (torch-free); ("diffusers", path) for a diffusers pipeline folder."""
    import json
    from pathlib import Path

    from musebench.models.checkpoints import resolve_checkpoint

    path = Path(name_or_dir).expanduser()
    if path.is_dir() and (path / "model_index.json").is_file():
        return "diffusers", path
    directory = resolve_checkpoint(name_or_dir)
    try:
        document = json.loads((directory / "config.json").read_text())
        adapter = document.get("adapter")
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        raise MusebenchError(f"{directory / 'config.json'}: not a JSON object; restore the checkpoint's config") from None
    if not isinstance(adapter, str):
        raise MusebenchError(f"{directory / 'config.json'}: no \"adapter\" key; add e.g. \"adapter\": \"muse\"")
    _check_model_config(directory, document)
    return adapter, directory


# config.json "format" -> its torch-free reader (reference_model's strict, typed config parsers)
_CONFIG_READERS = {"reference_model.muse/1": ("reference_model.config", "muse_config_from_dict"),
                   "reference_model.ldm/1": ("reference_model.ldm.config", "ldm_config_from_dict")}


def _check_model_config(directory, document: dict) -> None:
    """A reference checkpoint's model config, typed and consistent, before its adapter (and torch)
    is imported: the same reader the adapter runs, so the message is the same, only sooner."""
    import importlib

    from reference_model.errors import ReferenceModelError

    reader = _CONFIG_READERS.get(document.get("format"))
    if reader is None or "model" not in document:
        return
    try:
        getattr(importlib.import_module(reader[0]), reader[1])(document["model"], f"{directory / 'config.json'}:model")
    except ReferenceModelError as exc:
        raise MusebenchError(str(exc)) from None
    from musebench.models.checkpoints import check_checkpoint_weights

    check_checkpoint_weights(str(directory))  # the weights against the config, from their header (torch-free)
