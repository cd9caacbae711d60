"""A feature extractor's name and weights checked without torch: the preflight half of extractors.py.

`musebench metrics` and a run's preflight call check_weights before anything imports torch (issue
23: a bad weights file is refused in one line, not after the ~0.5 GB import). The shapes come from
the file's header (pth_header.py, safetensors' header) and the networks' committed manifests
(weight_manifests.py) or, for the probe, its config (probe_model.probe_shapes); for dinov2, the
folder's config.json and its weights header (dinov2_weights.py); random-vgg has none and refuses one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from musebench.errors import MusebenchError

EXTRACTORS = ("inception", "clip", "probe", "dinov2", "random-vgg")


@dataclass(frozen=True)
class ExtractorSpec:
    name: str = "probe"  # one of EXTRACTORS
    weights: str | None = None  # inception: weights file; clip: pretrained file; probe: checkpoint name/dir; dinov2: folder; random-vgg: none
    model: str = "ViT-B-32"  # clip only: open_clip model name, or local-dir:PATH


def check_name(name: str) -> None:
    if name not in EXTRACTORS:
        close = difflib.get_close_matches(name, EXTRACTORS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise MusebenchError(f"unknown feature extractor '{name}'{hint}; choose one of {', '.join(EXTRACTORS)}")


def check_weights(spec: ExtractorSpec) -> None:
    """The extractor's weights file opens with the expected keys and shapes, without building the
    network or importing torch. MusebenchError (one line naming the file) otherwise."""
    check_name(spec.name)
    if spec.name == "inception":
        from musebench.metrics.inception_weights import check_weights as check_inception, resolve_weights

        check_inception(resolve_weights(spec.weights)[0])
    elif spec.name == "clip" and not spec.model.startswith("local-dir:"):
        from musebench.metrics.clip_weights import check_clip_shapes, clip_file, clip_file_shapes

        path = clip_file(spec.model, spec.weights)
        check_clip_shapes(spec.model, path, clip_file_shapes(path))
    elif spec.name == "probe":
        from musebench.metrics.probe_model import check_weights as check_probe

        check_probe(spec.weights or "probe-clip")
    elif spec.name == "dinov2":
        from musebench.metrics.dinov2_weights import check_folder

        check_folder(spec.weights)
    elif spec.name == "random-vgg" and spec.weights is not None:
        raise MusebenchError(f"extractor random-vgg has no weights file (its weights are drawn from a fixed seed), "
                             f"got extractor_weights '{spec.weights}'; remove extractor_weights")
