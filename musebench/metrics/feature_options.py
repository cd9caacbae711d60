"""The suite keys every feature-set metric shares (fid, kid, prdc, cmmd, vendi): which extractor, its
preprocessing, its weights, and for those comparing with a reference set, the reference. A metric's
Options subclasses one of these and adds its own keys after them (suites name keys, never positions).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureOptions:
    extractor: str = "probe"  # inception | clip | probe | dinov2 | random-vgg
    mode: str = "clean"  # preprocessing: clean | tf1 | antialias
    extractor_weights: str | None = None  # inception .pth / open_clip pretrained file / probe checkpoint / dinov2 folder (random-vgg: none)
    extractor_model: str = "ViT-B-32"  # clip only: open_clip model name or local-dir:PATH
    batch_size: int = 64


@dataclass(frozen=True)
class ReferenceOptions(FeatureOptions):
    reference: dict | str | None = None  # see reference.py; default shapes:test n=1000 (an .npz has no features)
