"""Reference ("real") data for FID/KID: rendered shapes scenes, an .npz of statistics, or a folder.

Suite forms (Options.reference):
    {source: shapes, split: test, n: 1000, size: 32, seed: 0}   real renders of shapes scenes
    {source: npz, path: stats.npz}   or the string "stats.npz"     mu/sigma (FID only: KID needs features)
    {source: folder, path: DIR}      or the string "DIR"           real images on disk
`size` defaults to the evaluated images' size. Features are cached by content (features.py) and
reference statistics with their square-root factor by (features key), so a second FID against the
same reference skips the eigendecomposition (stats.py). A shapes reference's statistics and features
are also stored by spec, so a warm FID or KID (which need the features: the floor, the bootstrap)
renders nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.cache.derived import DerivedStore
from musebench.metrics.stats import GaussianStats, load_stats, stats_arrays, stats_from_arrays, stats_from_features

if TYPE_CHECKING:  # check_reference (a folder's headers) runs in the run's torch-free preflight
    import torch

_KEYS = {"shapes": ("source", "split", "n", "size", "seed"), "npz": ("source", "path"), "folder": ("source", "path", "limit")}
DEFAULT_REFERENCE = {"source": "shapes", "split": "test", "n": 1000, "seed": 0}


@dataclass(frozen=True)
class Reference:
    description: str  # e.g. "shapes:test n=1000 size=32 seed=0"
    stats: GaussianStats
    features: np.ndarray | None  # (N, D), None for an .npz of statistics


def features_reference(feats: np.ndarray, description: str) -> Reference:
    """A reference from features (M, D) already computed: `musebench metrics` on a folder or a .npy."""
    return Reference(description, stats_from_features(feats, f"reference {description}"), feats)


def normalise_spec(spec: dict | str | None, where: str) -> dict:
    """Suite value -> a dict with every key checked; strings are .npz paths or folders."""
    if spec is None:
        return dict(DEFAULT_REFERENCE)
    if isinstance(spec, str):
        return {"source": "npz" if spec.endswith(".npz") else "folder", "path": spec}
    if not isinstance(spec, dict) or spec.get("source") not in _KEYS:
        raise MusebenchError(f"{where}.reference: needs source: shapes | npz | folder, got {spec!r}")
    unknown = sorted(set(spec) - set(_KEYS[spec["source"]]))
    if unknown:
        raise MusebenchError(f"{where}.reference: unknown key(s) {', '.join(unknown)} for source {spec['source']}; allowed: {', '.join(_KEYS[spec['source']])}")
    if spec["source"] in ("npz", "folder") and not isinstance(spec.get("path"), str):
        raise MusebenchError(f"{where}.reference: source {spec['source']} needs path: PATH")
    return dict(spec)


def check_reference(spec: dict, dim) -> None:
    """What load_reference will need, without computing a feature: a folder of images whose headers
    all read and agree on one size (headers only: ~0.3 ms per file), or an .npz whose statistics fit
    the extractor's feature dimension `dim()` (called only then: it may build the extractor). A
    shapes reference is rendered, so it needs nothing."""
    if spec["source"] == "npz":
        load_stats(Path(spec["path"]).expanduser(), dim())
    elif spec["source"] == "folder":
        from musebench.imageio import image_size
        from musebench.metrics.image_folder import list_images

        folder = Path(spec["path"]).expanduser()
        paths = list_images(folder)[: spec.get("limit")]
        if not paths:
            raise MusebenchError(f"reference folder {folder} holds no images; build it with `musebench reference`")
        first = image_size(paths[0])
        for path in paths[1:]:
            if image_size(path) != first:
                raise MusebenchError(f"{path}: size {image_size(path)} differs from {paths[0].name} {first}; "
                                     "a reference folder holds one size: build it with `musebench reference`")


def reference_images(spec: dict, default_size: int) -> tuple[torch.Tensor, str]:
    """uint8 (N, 3, S, S) real images of a shapes or folder spec, and a description."""
    if spec["source"] == "folder":
        from musebench.metrics.image_folder import load_folder

        images = load_folder(Path(spec["path"]).expanduser(), spec.get("limit"))
        return images, f"folder:{spec['path']} n={images.shape[0]}"
    split, n, seed = spec.get("split", "test"), spec.get("n", 1000), spec.get("seed", 0)
    size = spec.get("size", default_size)
    return shapes_reference_images(split, n, seed, size), _shapes_description(spec, default_size)


@functools.lru_cache(maxsize=4)
def shapes_reference_images(split: str, n: int, seed: int, size: int) -> torch.Tensor:
    """uint8 (N, 3, S, S) renders of a shapes split; memoised: a sweep asks for the same reference at every point.

    Renders are a pure function of (split, n, seed, size), so the memo cannot go stale; callers must not
    modify the returned tensor (feature extraction only reads it).
    """
    import torch

    from musebench.shapes import render, sample_prompts, scene_from_dict

    records = sample_prompts(split, n, seed)
    return torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), size)).permute(2, 0, 1) for r in records])


def load_reference(spec: dict, extractor, mode: str, batch_size: int, cache_dir: Path | None, default_size: int,
                   need_features: bool) -> Reference:
    from musebench.metrics.features import cached_features, feature_key, feature_kind

    if spec["source"] == "npz":
        if need_features:
            raise MusebenchError(f"reference {spec['path']}: KID needs reference images (source: shapes or folder), not an .npz of mu/sigma")
        return Reference(f"npz:{spec['path']}", load_stats(Path(spec["path"]).expanduser(), extractor.dim), None)
    store, kind = DerivedStore(cache_dir), feature_kind(extractor, mode)
    by_spec = None  # a shapes reference is a pure function of its spec and the world's code
    if spec["source"] == "shapes" and cache_dir is not None:
        by_spec = shapes_reference_key(spec, default_size, extractor, mode)
        stats = _cached_stats(store, kind, by_spec, extractor.dim)
        feats = store.get_npy(f"feats-{kind}", by_spec) if need_features and stats is not None else None
        if stats is not None and (feats is not None or not need_features):  # a warm run: nothing rendered
            return Reference(_shapes_description(spec, default_size), stats, feats)
    images, description = reference_images(spec, default_size)
    feats = cached_features(extractor, images, mode, batch_size, cache_dir)
    by_images = feature_key(extractor, mode, images) if cache_dir is not None else None
    stats = _cached_stats(store, kind, by_images, extractor.dim) if by_images is not None else None
    if stats is None:
        stats = stats_from_features(feats, f"reference {description}").with_factor()
        store.put_npz(f"stats-{kind}", by_images, stats_arrays(stats))
    if by_spec is not None:
        store.put_npz(f"stats-{kind}", by_spec, stats_arrays(stats))
        store.put_npy(f"feats-{kind}", by_spec, feats)
    return Reference(description, stats, feats)


def _cached_stats(store: DerivedStore, kind: str, key: str, dim: int) -> GaussianStats | None:
    """The statistics kept as `stats-<kind>-<key>.npz`; None when absent or unreadable."""
    arrays = store.get_npz(f"stats-{kind}", key)
    return None if arrays is None else stats_from_arrays(arrays, str(store.path(f"stats-{kind}", key, ".npz")), dim)


def _shapes_description(spec: dict, default_size: int) -> str:
    split, n, seed = spec.get("split", "test"), spec.get("n", 1000), spec.get("seed", 0)
    return f"shapes:{split} n={n} size={spec.get('size', default_size)} seed={seed}"


def shapes_reference_key(spec: dict, default_size: int, extractor, mode: str) -> str:
    """Key of a shapes reference's statistics without rendering it: the spec, the world's code
    (musebench.shapes.version), the extractor's weights and input size, the preprocessing mode."""
    from musebench.shapes.version import world_version

    text = f"{_shapes_description(spec, default_size)}|{world_version()}|{extractor.fingerprint}|{extractor.input_size}|{mode}"
    return "shapes-" + DerivedStore.key(text)
