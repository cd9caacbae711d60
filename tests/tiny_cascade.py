"""A tiny random cascade (base Muse + super-resolution stage) saved through reference_model's own
writers, for the adapter and pipeline tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from reference_model.checkpoint import save_checkpoint
from reference_model.config import LowResConfig, SamplerConfig, SuperResConfig
from reference_model.sr_checkpoint import save_sr_checkpoint
from reference_model.super_res import SuperResTransformer
from reference_model.tokenizer import VQModel
from reference_model.transformer import MaskedTransformer
from test_muse_model import tiny_config


def tiny_sr_config(encoder_dir: Path) -> SuperResConfig:
    base = tiny_config(encoder_dir)
    return SuperResConfig(vq=replace(base.vq, image_size=2 * base.vq.image_size), text_encoder=base.text_encoder,
                          transformer=replace(base.transformer, grid=2 * base.transformer.grid),
                          lowres=LowResConfig(vocab_size=base.vq.codebook_size, grid=base.vq.grid, layers=1),
                          sampler=SamplerConfig(steps=2, guidance=0.0, temperature=1.0))


def build_cascade(root: Path, encoder_dir: Path) -> Path:
    """root/base (a tiny Muse) and root/sr (its stage, training.base = root/base); returns root/sr."""
    config = tiny_config(encoder_dir)
    torch.manual_seed(1)  # weights only; sampling always uses explicit generators
    save_checkpoint(root / "base", config, VQModel(config.vq), MaskedTransformer(config.transformer), {"adapter": "muse"})
    sr_config = tiny_sr_config(encoder_dir)
    save_sr_checkpoint(root / "sr", sr_config, VQModel(sr_config.vq), SuperResTransformer(sr_config),
                       {"adapter": "muse-cascade", "training": {"base": str(root / "base")}})
    return root / "sr"
