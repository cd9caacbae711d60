"""images -> features, with the feature cache wrapped around this one stage (torch-fidelity's habit).

Cache key = sha256 of (extractor fingerprint, preprocessing mode, input size, image shape, image
bytes): a different resize filter, weights or config file, normalisation, extractor code version
(the fingerprint: cache/fingerprint.py) or image never hits a stale entry (clean-fid's named mode,
in the key). Entries are .npy files of the derived store (cache/derived.py: key rule, atomic puts).
Features are float32 from the network, returned as float64 for the statistics.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from musebench.cache.derived import DerivedStore
from musebench.errors import MusebenchError
from musebench.metrics.preprocess import check_images, check_mode, resize


def feature_key(extractor, mode: str, images: torch.Tensor) -> str:
    return DerivedStore.key(f"{extractor.fingerprint}|{mode}|{extractor.input_size}|{tuple(images.shape)}|", images)


def feature_kind(extractor, mode: str) -> str:
    """The store's kind for features of `extractor` under `mode`: files `<name>-<mode>-<key>.npy`."""
    return f"{extractor.name}-{mode}"


def compute_features(extractor, images: torch.Tensor, mode: str, batch_size: int) -> np.ndarray:
    """uint8 (N, 3, H, W) -> float64 (N, D); one batch at a time, so memory stays bounded."""
    from tqdm import tqdm

    check_mode(mode)
    check_images(images, f"features '{extractor.name}'")
    if batch_size < 1:
        raise MusebenchError(f"features: batch_size must be >= 1, got {batch_size}")
    parts = []
    starts = range(0, images.shape[0], batch_size)
    for start in tqdm(starts, desc=f"features {extractor.name}/{mode}", unit="batch", file=sys.stderr, disable=len(starts) < 4):
        x = resize(images[start : start + batch_size], extractor.input_size, mode, extractor.crop)  # (B, 3, S, S) float32
        parts.append(extractor.embed(x).double().numpy())  # (B, D)
    feats = np.concatenate(parts) if parts else np.zeros((0, extractor.dim))
    if not np.isfinite(feats).all():
        raise MusebenchError(f"features '{extractor.name}': NaN or inf in the features; check the weights file ({extractor.fingerprint})")
    return feats


def cached_features(extractor, images: torch.Tensor, mode: str, batch_size: int, cache_dir: Path | None) -> np.ndarray:
    """compute_features, read from / written to the derived store at cache_dir when it is set."""
    if cache_dir is None:
        return compute_features(extractor, images, mode, batch_size)
    check_images(images, f"features '{extractor.name}'")
    store, kind, key = DerivedStore(cache_dir), feature_kind(extractor, mode), feature_key(extractor, mode, images)
    feats = store.get_npy(kind, key)
    if feats is None:
        feats = compute_features(extractor, images, mode, batch_size)
        store.put_npy(kind, key, feats)
    return feats


class FeatureModule(torch.nn.Module):
    """extractor + preprocessing mode as one module: uint8 (N, 3, H, W) -> float64 features (N, D).

    The "custom feature module" torchmetrics' FrechetInceptionDistance / KernelInceptionDistance
    accept as `feature=`; the parity tests feed it to them.
    """

    def __init__(self, extractor, mode: str) -> None:
        super().__init__()
        check_mode(mode)
        self.extractor, self.mode = extractor, mode
        self.num_features = extractor.dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(compute_features(self.extractor, images, self.mode, batch_size=max(1, images.shape[0])))
