"""Feature extractors: inception equals torch-fidelity's, FID equals torchmetrics', batch-size
independence, determinism, missing weights (the modes against their libraries: test_metrics_preprocess.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics.features import FeatureModule, cached_features, compute_features
from musebench.metrics.inception import WEIGHTS_NAME, InceptionExtractor, resolve_weights
from musebench.metrics.preprocess import resize
from musebench.metrics.stats import fid, stats_from_features


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 256, (n, 3, size // 4, size // 4), generator=g, dtype=torch.uint8)
    return base.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)  # blocky: like rendered shapes


@pytest.fixture(scope="module")
def inception_weights(tmp_path_factory) -> Path:
    """A randomly initialised Inception-v3 saved in torch-fidelity's format (torch.save of its state dict)."""
    import torch_fidelity.feature_extractor_inceptionv3 as tfi

    class _NoLoad(tfi.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # keep the fresh layers
            return None

    orig = tfi.load_state_dict_from_url
    tfi.load_state_dict_from_url = lambda *a, **k: {}  # the constructor must not reach the network
    try:
        net = _NoLoad("inception-v3-compat", ["2048"])
    finally:
        tfi.load_state_dict_from_url = orig
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim == 4:  # conv: He init keeps activations O(1) through 20 layers
                p.copy_(torch.randn(p.shape, generator=g) * (2.0 / p[0].numel()) ** 0.5)
            elif name.endswith("weight") and p.ndim == 2:  # fc
                p.copy_(torch.randn(p.shape, generator=g) * 0.01)
    path = tmp_path_factory.mktemp("w") / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return path


REAL, FAKE = _images(3, 32, 1), _images(3, 32, 2)  # 3 + 3 images: Inception at 299 px is slow on a CPU


@pytest.fixture(scope="module")
def ours(inception_weights):
    """Our features per (set, mode, batch size), computed once for the module."""
    ext = InceptionExtractor(str(inception_weights))
    memo: dict = {}

    def get(which: str, mode: str, batch: int = 3) -> np.ndarray:
        key = (which, mode, batch)
        if key not in memo:
            memo[key] = compute_features(ext, REAL if which == "real" else FAKE, mode, batch_size=batch)
        return memo[key]

    get.extractor = ext
    return get


def test_inception_features_equal_torch_fidelity(inception_weights, ours):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(inception_weights))
    theirs = net(REAL)[0]
    assert theirs.std() > 1e-3  # the random network is not degenerate
    np.testing.assert_allclose(ours("real", "tf1"), theirs.double().numpy(), rtol=1e-5, atol=1e-5)


def test_fid_equals_torchmetrics_fid_with_the_weights_file(inception_weights, ours):
    from torchmetrics.image.fid import FrechetInceptionDistance

    tm = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=str(inception_weights), antialias=True)
    tm.update(REAL, real=True)
    tm.update(FAKE, real=False)
    value = fid(stats_from_features(ours("fake", "antialias")), stats_from_features(ours("real", "antialias")))
    assert value == pytest.approx(float(tm.compute()), rel=1e-4)  # rank-2 covariances: eigvals round-off


def test_torchmetrics_with_our_feature_module_and_batch_size_independence(ours):
    """FeatureModule runs the whole set as one batch; ours() below runs batches of 1."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    tm = FrechetInceptionDistance(feature=FeatureModule(ours.extractor, "clean"))
    tm.update(REAL, real=True)
    tm.update(FAKE, real=False)
    value = fid(stats_from_features(ours("fake", "clean", 1)), stats_from_features(ours("real", "clean", 1)))
    assert value == pytest.approx(float(tm.compute()), rel=1e-4)
    np.testing.assert_allclose(ours("real", "clean", 1), ours("real", "clean", 3), atol=1e-5, rtol=0)


def test_features_deterministic_and_cached_per_mode(ours, tmp_path):
    ext = ours.extractor
    first = cached_features(ext, REAL[:2], "tf1", 2, tmp_path)
    np.testing.assert_array_equal(first, compute_features(ext, REAL[:2], "tf1", 2))  # a rerun is bit-identical
    assert len(list(tmp_path.glob("inception-tf1-*.npy"))) == 1
    np.testing.assert_array_equal(cached_features(ext, REAL[:2], "tf1", 2, tmp_path), first)
    cached_features(ext, REAL[:2], "antialias", 2, tmp_path)  # another mode is another entry
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_modes_differ_and_same_size_is_identity():
    images = _images(2, 32, 7)
    clean, tf1, aa = (resize(images, 299, m) for m in ("clean", "tf1", "antialias"))
    assert (clean - tf1).abs().max() > 1 and (tf1 - aa).abs().max() > 1
    for mode in ("clean", "tf1", "antialias"):
        assert torch.equal(resize(images, 32, mode), images.float())


def test_missing_inception_weights_names_file_checksum_and_place(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSEBENCH_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MusebenchError) as err:
        resolve_weights(None)
    msg = str(err.value)
    assert WEIGHTS_NAME in msg and "6726825d" in msg and str(tmp_path / "weights") in msg and "\n" not in msg


def test_wrong_checksum_is_rejected(tmp_path, monkeypatch):
    (tmp_path / WEIGHTS_NAME).write_bytes(b"not the weights")
    monkeypatch.setenv("MUSEBENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(MusebenchError, match="does not match 6726825d"):
        resolve_weights(None)


def test_mixed_sizes_and_unknown_mode(tmp_path):
    from PIL import Image

    from musebench.metrics.image_folder import load_folder

    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    Image.new("RGB", (64, 64)).save(tmp_path / "b.png")
    with pytest.raises(MusebenchError, match="b.png: size 64x64 differs from a.png"):
        load_folder(tmp_path)
    with pytest.raises(MusebenchError, match="unknown preprocessing mode 'cleen' \\(did you mean 'clean'\\?\\)"):
        resize(_images(1, 32, 0), 299, "cleen")
