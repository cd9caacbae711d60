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
