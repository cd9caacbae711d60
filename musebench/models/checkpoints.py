"""Shipped checkpoints, loadable by name without a path: `muse-shapes`, `muse-sr`, `ldm-shapes`, `probe-clip`.

They live inside the package (musebench/checkpoints/<name>/): config.json, *.safetensors, CARD.md.
A directory path works everywhere a name does.
"""

from __future__ import annotations

from pathlib import Path

from musebench.errors import MusebenchError

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def shipped_names() -> list[str]:
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file())


def resolve_checkpoint(name_or_dir: str) -> Path:
    """A shipped name or a directory holding config.json -> that directory."""
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise MusebenchError(
                f"{path}: not a checkpoint directory: no config.json (a musebench/reference_model checkpoint) "
                "and no model_index.json (a diffusers pipeline saved with save_pretrained)")
        return path
    shipped = SHIPPED_DIR / name_or_dir
    if "/" not in name_or_dir and (shipped / "config.json").is_file():
        return shipped
    names = ", ".join(shipped_names()) or "none shipped yet"
    raise MusebenchError(
        f"checkpoint '{name_or_dir}' not found: give a directory with config.json or a shipped name ({names})"
    )


def check_checkpoint_weights(name_or_dir: str) -> None:
    """The checkpoint's weights file holds every tensor its config.json implies, at its shape and a
    float dtype, read from the safetensors header against shapes computed from the config (no
    weights loaded, no torch imported): for the run's preflight and `generate --model`'s (registry).
    Muse and LDM directories (reference_model's check_checkpoint) and probe-CLIP ones are checked;
    other formats (a diffusers pipeline, a test adapter's config) are left to their adapter. MusebenchError (one line) otherwise."""
    import importlib
    import json

    from reference_model.errors import ReferenceModelError

    directory = resolve_checkpoint(name_or_dir)
    try:
        document = json.loads((directory / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MusebenchError(f"{directory / 'config.json'}: not valid JSON ({exc}); restore the file from the checkpoint") from None
    if not isinstance(document, dict):
        return
    try:
        if document.get("format") in _CHECKERS:
            importlib.import_module(_CHECKERS[document["format"]]).check_checkpoint(directory)
        if document.get("format") == "reference_model.muse_sr/1":  # a cascade's stage: its base is checked too
            from musebench.models.adapter_params import cascade_dirs

            check_checkpoint_weights(str(cascade_dirs(str(directory))[1]))
        elif document.get("architecture") == "open_clip.model.CLIP":
            from musebench.metrics.probe_model import check_weights

            check_weights(str(directory))
    except ReferenceModelError as exc:
        raise MusebenchError(str(exc)) from None


# config.json "format" -> the reference_model module whose check_checkpoint reads that format
_CHECKERS = {"reference_model.muse/1": "reference_model.checkpoint", "reference_model.ldm/1": "reference_model.ldm.checkpoint",
             "reference_model.muse_sr/1": "reference_model.sr_checkpoint"}
