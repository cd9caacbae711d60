"""Shipped checkpoints, loadable by name without a path: `muse-shapes`, `ldm-shapes`, `probe-clip`.

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
    """The checkpoint's weights file holds every tensor its config.json implies, at its shape, read
    from the safetensors header with the modules built on the meta device (no weights loaded): for
    the run's preflight. Muse, LDM and probe-CLIP directories are checked; other formats (a diffusers
    pipeline, a test adapter's config) are left to their adapter. MusebenchError (one line) otherwise."""
    import json

    import torch

    from reference_model.errors import ReferenceModelError

    directory = resolve_checkpoint(name_or_dir)
    try:
        document = json.loads((directory / "config.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MusebenchError(f"{directory / 'config.json'}: not valid JSON ({exc}); restore the file from the checkpoint") from None
    fmt = document.get("format") if isinstance(document, dict) else None
    try:
        if fmt in _PARTS:
            config = _PARTS[fmt][0](directory)
            with torch.device("meta"):
                parts = _PARTS[fmt][1](config)
            _check_parts(directory, parts)
        elif isinstance(document, dict) and document.get("architecture") == "open_clip.model.CLIP":
            from musebench.metrics.probe_model import check_weights

            check_weights(str(directory))
    except ReferenceModelError as exc:
        raise MusebenchError(str(exc)) from None


def _check_parts(directory: Path, parts: dict) -> None:
    from reference_model.checkpoint_files import WEIGHTS_FILE, check_part, header_shapes

    path = directory / WEIGHTS_FILE
    shapes = header_shapes(path)
    for prefix, module in parts.items():
        check_part(module, shapes, prefix, path)


def _muse_config(directory: Path):
    from reference_model.checkpoint import read_config

    return read_config(directory)


def _muse_parts(config) -> dict:
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    return {"vq.": VQModel(config.vq), "transformer.": MaskedTransformer(config.transformer)}


def _ldm_config(directory: Path):
    from reference_model.ldm.checkpoint import read_config

    return read_config(directory)


def _ldm_parts(config) -> dict:
    from reference_model.ldm.denoiser import build_denoiser
    from reference_model.tokenizer import VQModel

    return {"vq.": VQModel(config.vq), "denoiser.": build_denoiser(config.denoiser)}


# config.json "format" -> (read its config, build its modules), as reference_model's load_checkpoint does
_PARTS = {"reference_model.muse/1": (_muse_config, _muse_parts), "reference_model.ldm/1": (_ldm_config, _ldm_parts)}
