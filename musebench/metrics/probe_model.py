"""The probe CLIP: a small CLIP built from open_clip's own classes, for in-domain features and scores.

Radford et al. 2021 (CLIP) architecture as implemented by open_clip (`open_clip.model.CLIP`): a ViT
image tower and a causal transformer text tower with open_clip's BPE tokenizer, trained with
`open_clip.ClipLoss` by `python -m recipes.probe_clip`. Shipped as
musebench/checkpoints/probe-clip/{config.json, model.safetensors, CARD.md}.
check_weights reads the config and the safetensors header only and compares them with probe_shapes,
the CLIP's state dict shapes written out in Python: no torch before a bad checkpoint is refused
(issue 23); tests/test_weight_manifests.py checks probe_shapes against open_clip's module.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from musebench.errors import MusebenchError

if TYPE_CHECKING:
    import torch

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CODE_VERSION = 2  # bump when the probe's embeddings are computed differently (cache/fingerprint.py)
# 2: a CLIP's short side + centre crop, uint8-rounded in clean mode (preprocess.py), where 1 squashed
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
    """(checkpoint dir, config, fingerprint of weights + config + preprocessing + CODE_VERSION, by
    cache/fingerprint.py), without building the model: enough to key cached features, so a warm run
    never imports open_clip."""
    from musebench.cache.fingerprint import fingerprint, hash_files
    from musebench.models.checkpoints import resolve_checkpoint

    directory = resolve_checkpoint(name_or_dir)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise MusebenchError(f"{weights}: missing; train it with python -m recipes.probe_clip --out {directory} from a musebench clone's root")
    cfg = load_config(directory / CONFIG_FILE)
    preprocessing = {"input_size": cfg.image_size, "mean": cfg.mean, "std": cfg.std}
    return directory, cfg, fingerprint("probe-clip", hash_files([weights, directory / CONFIG_FILE]), preprocessing, CODE_VERSION)


def check_weights(name_or_dir: str = "probe-clip") -> None:
    """config.json reads and model.safetensors holds every key of that config's CLIP at its shape
    (the safetensors header only; the model is built on the meta device): for the run's preflight."""
    directory, cfg, _ = probe_identity(name_or_dir)
    _check_shapes(directory, cfg)


def _check_shapes(directory: Path, cfg: ProbeConfig) -> None:
    from musebench.weights_file import check_shapes, tensor_shapes

    path = directory / WEIGHTS_FILE
    check_shapes(path, tensor_shapes(path, EXPECTED), probe_shapes(cfg), EXPECTED)


VOCAB_SIZE = 49408  # open_clip CLIPTextCfg.vocab_size: its BPE tokenizer's vocabulary
MLP_RATIO = 4  # open_clip CLIPVisionCfg / CLIPTextCfg mlp_ratio


def probe_shapes(cfg: ProbeConfig) -> dict[str, tuple[int, ...]]:
    """{key: shape} of build_clip(cfg).state_dict(), in its order, without torch (open_clip
    model.py CLIP, transformer.py VisionTransformer / TextTransformer / ResidualAttentionBlock)."""
    grid = cfg.image_size // cfg.patch_size
    vw, tw = cfg.vision_width, cfg.text_width
    shapes = {"positional_embedding": (cfg.context_length, tw), "text_projection": (tw, cfg.embed_dim), "logit_scale": (),
              "visual.class_embedding": (vw,), "visual.positional_embedding": (grid * grid + 1, vw),
              "visual.proj": (vw, cfg.embed_dim), "visual.conv1.weight": (vw, 3, cfg.patch_size, cfg.patch_size),
              "visual.ln_pre.weight": (vw,), "visual.ln_pre.bias": (vw,)}  # fmt: skip
    shapes.update(_resblocks("visual.transformer", cfg.vision_layers, vw))
    shapes.update({"visual.ln_post.weight": (vw,), "visual.ln_post.bias": (vw,)})
    shapes.update(_resblocks("transformer", cfg.text_layers, tw))
    shapes.update({"token_embedding.weight": (VOCAB_SIZE, tw), "ln_final.weight": (tw,), "ln_final.bias": (tw,)})
    return shapes


def _resblocks(prefix: str, layers: int, width: int) -> dict[str, tuple[int, ...]]:
    hidden = width * MLP_RATIO
    block = {"ln_1.weight": (width,), "ln_1.bias": (width,), "attn.in_proj_weight": (3 * width, width),
             "attn.in_proj_bias": (3 * width,), "attn.out_proj.weight": (width, width), "attn.out_proj.bias": (width,),
             "ln_2.weight": (width,), "ln_2.bias": (width,), "mlp.c_fc.weight": (hidden, width), "mlp.c_fc.bias": (hidden,),
             "mlp.c_proj.weight": (width, hidden), "mlp.c_proj.bias": (width,)}  # fmt: skip
    return {f"{prefix}.resblocks.{i}.{k}": v for i in range(layers) for k, v in block.items()}


def load_probe_model(directory: Path, cfg: ProbeConfig) -> torch.nn.Module:
    """The probe CLIP of `directory` in eval mode, gradients off; a file that does not fit is one line."""
    from musebench.weights_file import read_state_dict

    _check_shapes(directory, cfg)
    model = build_clip(cfg)
    model.load_state_dict(read_state_dict(directory / WEIGHTS_FILE, EXPECTED))
    return model.eval().requires_grad_(False)


def load_probe(name_or_dir: str = "probe-clip") -> tuple[torch.nn.Module, ProbeConfig, str]:
    """(model in eval mode, config, fingerprint (probe_identity's))."""
    directory, cfg, digest = probe_identity(name_or_dir)
    return load_probe_model(directory, cfg), cfg, digest


def normalise(images_uint8: torch.Tensor, cfg: ProbeConfig) -> torch.Tensor:
    """uint8 (N, 3, S, S) at the probe's size -> float32 (N, 3, S, S), as in training."""
    return (images_uint8.float() / 255.0 - cfg.mean) / cfg.std
