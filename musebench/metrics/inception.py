"""The standard FID Inception-v3: torch-fidelity's network with the weights file on disk (never downloaded).

The network is torch-fidelity's `FeatureExtractorInceptionV3` (TF Inception 2015-12-05 ported to
PyTorch). Finding the file and checking its keys and shapes without torch is inception_weights.py
(re-exported here); the file is read with torch.load(weights_only=True) and checked again before loading.
Features: the 2048-d pool3 activations, computed from a float image already resized to 299 px by
the named preprocessing mode; normalisation (x - 128) / 128 as in torch-fidelity's forward.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from musebench.cache.fingerprint import fingerprint
from musebench.metrics.inception_weights import (EXPECTED, WEIGHTS_NAME, WEIGHTS_SHA256_PREFIX, WEIGHTS_URL,  # noqa: F401
                                                 check_weights, expected_shapes, resolve_weights)
from musebench.weights_file import check_shapes, read_state_dict

INPUT_SIZE = 299
DIM = 2048
CODE_VERSION = 1  # bump when embed() computes something else: it enters every cache key (cache/fingerprint.py)
# torch-fidelity's forward, in order, up to the 2048-d pool (feature_extractor_inceptionv3.py).
_TRUNK = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_2",
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool",
)  # fmt: skip


def load_network(path: Path) -> torch.nn.Module:
    """torch-fidelity's FeatureExtractorInceptionV3 with the file's weights, in eval mode.

    torch-fidelity's own loader unpickles the path with weights_only=False (it could run code from
    the file), so the state dict is read and checked here, then loaded into its layers."""
    state = read_state_dict(path, EXPECTED)
    check_shapes(path, {k: tuple(v.shape) for k, v in state.items()}, expected_shapes(), EXPECTED)
    net = _unloaded_network()
    torch.nn.Module.load_state_dict(net, state)
    return net


def network_shapes() -> dict[str, tuple[int, ...]]:
    """{key: shape} of torch-fidelity's Inception-v3 state dict, from its layers on the meta device:
    the source of the committed manifest expected_shapes() reads (weight_manifests.py)."""
    with torch.device("meta"):
        net = _unloaded_network()
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def _unloaded_network() -> torch.nn.Module:
    """torch-fidelity's layers, randomly initialised: its constructor is handed an empty state dict to
    unpickle (never a user file) and this subclass skips loading it."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # the constructor's load of {}
            return None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    return Unloaded("inception-v3-compat", ["2048"], feature_extractor_weights_path=empty)


class InceptionExtractor:
    name = "inception"
    input_size = INPUT_SIZE
    dim = DIM
    crop = False  # the whole image to 299 px: clean-fid, torch-fidelity and torchmetrics all squash (preprocess.py)

    def __init__(self, weights: str | None) -> None:
        path, digest = resolve_weights(weights)
        self.net = load_network(path)
        self.fingerprint = fingerprint("inception-tf-2015-12-05", {"weights": digest},
                                       {"input_size": INPUT_SIZE, "normalise": "(x - 128) / 128"}, CODE_VERSION)

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """float32 (N, 3, 299, 299) in [0, 255] -> (N, 2048)."""
        x = (x - 128) / 128
        for name in _TRUNK:
            x = getattr(self.net, name)(x)
        return torch.flatten(x, 1)
