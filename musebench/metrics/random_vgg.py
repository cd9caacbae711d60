"""The `random-vgg` feature extractor: VGG-16's first two blocks with random, seeded weights.

Why: an extractor trained on the shapes world's captions (the probe CLIP) reads which objects are
where and barely sees how sharply they are drawn: at 64 px, bicubic 2x of the real 32 px renders is
as close to the real 64 px renders in probe space as the renders themselves (FID 0.0029 vs the floor
0.0025, N = 1,500). Randomly initialised convolutional features are the field's answer for a domain
without a pretrained network (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
Generative Models", §5 "random embeddings": a randomly initialised VGG-16); their low-level filters
respond to edges and texture, so blur moves the features' distribution. tests/test_random_vgg.py
checks that it does (bicubic of real renders vs real renders, against the real-vs-real floor).

Network: configuration D of Simonyan & Zisserman 2015 (torchvision's vgg16 `cfgs["D"]`) up to relu2_2:
conv3-64, conv3-64, max-pool 2, conv3-128, conv3-128, each 3x3 with padding 1 and a ReLU; the feature
is the spatial mean of relu2_2: 128-d, so N >= 20 x D holds at 2,560 images. Weights: torchvision's
VGG initialisation (Kaiming normal, fan_out, ReLU gain; zero bias), drawn layer by layer from a
torch.Generator seeded SEED, so they depend on nothing but this file and torch's CPU generator
(tests/test_random_vgg.py pins a few of them: a generator that changed would fail it, not silently
change cached features). Input: 64 x 64 (preprocess.py resizes other sizes), (x/255 - 0.5) / 0.25.
"""

from __future__ import annotations

import math

import torch

from musebench.cache.fingerprint import fingerprint

CODE_VERSION = 1  # bump when the weights or embed() change (cache/fingerprint.py)
SEED = 0
INPUT_SIZE = 64
DIM = 128
MEAN, STD = 0.5, 0.25
LAYERS = ((3, 64), (64, 64), "pool", (64, 128), (128, 128))  # vgg16 cfg "D" up to conv2_2: (in, out) channels


def random_vgg(seed: int = SEED) -> torch.nn.Sequential:
    """The network, weights drawn from torch.Generator(seed) in layer order, eval mode, no grad."""
    generator = torch.Generator().manual_seed(seed)
    modules: list[torch.nn.Module] = []
    for layer in LAYERS:
        if layer == "pool":
            modules.append(torch.nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        c_in, c_out = layer
        conv = torch.nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)
        std = math.sqrt(2.0 / (c_out * 9))  # kaiming_normal_(mode="fan_out", nonlinearity="relu"), as torchvision's VGG
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * std)
            conv.bias.zero_()
        modules += [conv, torch.nn.ReLU()]
    return torch.nn.Sequential(*modules).eval().requires_grad_(False)


class RandomVggExtractor:
    name = "random-vgg"
    crop = False  # a square input: squash (preprocess.py); the shapes world's images are square
    input_size = INPUT_SIZE
    dim = DIM

    def __init__(self) -> None:
        preprocessing = {"input_size": INPUT_SIZE, "mean": MEAN, "std": STD, "seed": SEED, "layers": "vgg16-D:relu2_2",
                         "pool": "spatial mean"}
        self.fingerprint = fingerprint("random-vgg", {}, preprocessing, CODE_VERSION)
        self._model: torch.nn.Sequential | None = None  # built on the first embed(): cached features never need it

    @property
    def model(self) -> torch.nn.Sequential:
        if self._model is None:
            self._model = random_vgg()
        return self._model

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = (x / 255.0 - MEAN) / STD  # (N, 3, 64, 64)
        return self.model(x).mean(dim=(2, 3))  # (N, 128): relu2_2, spatial mean
