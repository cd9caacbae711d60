"""The probe CLIP: a small CLIP built from open_clip's own classes, for in-domain features and scores.

Radford et al. 2021 (CLIP) architecture as implemented by open_clip (`open_clip.model.CLIP`): a ViT
image tower and a causal transformer text tower with open_clip's BPE tokenizer, trained with
`open_clip.ClipLoss` by `python -m recipes.probe_clip`. Shipped as
musebench/checkpoints/probe-clip/{config.json, model.safetensors, CARD.md}.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from musebench.errors import MusebenchError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
EXPECTED = f"the probe CLIP's {WEIGHTS_FILE} written with its {CONFIG_FILE} by python -m recipes.probe_clip"


@dataclass(frozen=True)
class ProbeConfig:
    image_size: int = 32  # the shapes world's default resolution: no resize for shipped models' images
    patch_size: int = 8  # 4x4 = 16 patches: 4x cheaper than 4 px patches, fits a 15 min single-thread CPU budget
    vision_width: int = 128
    vision_layers: int = 4
    text_width: int = 128
    text_heads: int = 4
    text_layers: int = 2
    context_length: int = 16  # the longest shapes caption is 14 BPE tokens incl. start/end
    embed_dim: int = 128  # joint embedding = the probe's feature dimension for FID/KID
    mean: float = 0.5  # pixel normalisation: (x/255 - mean) / std, the same for all channels
    std: float = 0.25


def build_clip(cfg: ProbeConfig) -> torch.nn.Module:
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    vision = CLIPVisionCfg(
        layers=cfg.vision_layers, width=cfg.vision_width, head_width=32, patch_size=cfg.patch_size, image_size=cfg.image_size
    )
    text = CLIPTextCfg(
        context_length=cfg.context_length, width=cfg.text_width, heads=cfg.text_heads, layers=cfg.text_layers
    )
    return CLIP(embed_dim=cfg.embed_dim, vision_cfg=vision, text_cfg=text)


def tokenizer(cfg: ProbeConfig):
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer(context_length=cfg.context_length)


def save_config(cfg: ProbeConfig, path: Path, extra: dict) -> None:
    path.write_text(json.dumps({"architecture": "open_clip.model.CLIP", **asdict(cfg), "training": extra}, indent=2) + "\n")


def load_config(path: Path) -> ProbeConfig:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise MusebenchError(f"{path}: cannot read the probe config ({exc}); re-run python -m recipes.probe_clip from a musebench clone's root") from None
    known = {f.name for f in fields(ProbeConfig)}
    return ProbeConfig(**{k: v for k, v in data.items() if k in known})


def probe_identity(name_or_dir: str = "probe-clip") -> tuple[Path, ProbeConfig, str]:
    """(checkpoint dir, config, fingerprint = sha256 prefix of the weights file), without building
    the model: enough to key cached features, so a warm run never imports open_clip."""
    import hashlib

    from musebench.models.checkpoints import resolve_checkpoint

    directory = resolve_checkpoint(name_or_dir)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise MusebenchError(f"{weights}: missing; train it with python -m recipes.probe_clip --out {directory} from a musebench clone's root")
    cfg = load_config(directory / CONFIG_FILE)
    return directory, cfg, hashlib.sha256(weights.read_bytes()).hexdigest()[:16]


def check_weights(name_or_dir: str = "probe-clip") -> None:
    """config.json reads and model.safetensors holds every key of that config's CLIP at its shape
    (the safetensors header only; the model is built on the meta device): for the run's preflight."""
    directory, cfg, _ = probe_identity(name_or_dir)
    _check_shapes(directory, cfg)


def _check_shapes(directory: Path, cfg: ProbeConfig) -> None:
    from musebench.weights_file import check_shapes, tensor_shapes

    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build_clip(cfg).state_dict().items()}
    path = directory / WEIGHTS_FILE
    check_shapes(path, tensor_shapes(path, EXPECTED), expected, EXPECTED)


def load_probe_model(directory: Path, cfg: ProbeConfig) -> torch.nn.Module:
    """The probe CLIP of `directory` in eval mode, gradients off; a file that does not fit is one line."""
    from musebench.weights_file import read_state_dict

    _check_shapes(directory, cfg)
    model = build_clip(cfg)
    model.load_state_dict(read_state_dict(directory / WEIGHTS_FILE, EXPECTED))
    return model.eval().requires_grad_(False)


def load_probe(name_or_dir: str = "probe-clip") -> tuple[torch.nn.Module, ProbeConfig, str]:
    """(model in eval mode, config, fingerprint = sha256 prefix of the weights file)."""
    directory, cfg, digest = probe_identity(name_or_dir)
    return load_probe_model(directory, cfg), cfg, digest


def normalise(images_uint8: torch.Tensor, cfg: ProbeConfig) -> torch.Tensor:
    """uint8 (N, 3, S, S) at the probe's size -> float32 (N, 3, S, S), as in training."""
    return (images_uint8.float() / 255.0 - cfg.mean) / cfg.std
