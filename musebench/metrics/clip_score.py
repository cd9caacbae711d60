"""CLIP score with the variant named: torchmetrics | hessel | cosine, through open_clip or the probe.

    torchmetrics  100 * cos(image, text) per pair; the mean clamped at 0 (torchmetrics CLIPScore:
                  `score = 100 * cos`, compute() = max(mean, 0))
    hessel        2.5 * max(cos, 0) per pair with the prompt prefixed by "A photo depicts "
                  (Hessel et al. 2021, "CLIPScore", w = 2.5), averaged
    cosine        the raw cosine, averaged
Images go in as uint8 and are resized once to the model's input size by a named preprocessing mode
in CLIP's geometry (short side, then centre crop; clean = open_clip's own transform: preprocess.py), then normalised with
the model's mean/std: no double rescaling. Interval: bootstrap over pairs, seeded by the suite seed.
Model: `probe` (shipped probe CLIP, or `pretrained:` a probe checkpoint dir), an open_clip model
name with `pretrained:` a local file, or `local-dir:PATH`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext, MetricValue, keyed
from musebench.metrics.intervals import bootstrap_interval

if TYPE_CHECKING:  # the suite loader imports this module for Options and outputs(): no torch at import
    import torch

VARIANTS = ("torchmetrics", "hessel", "cosine")
HESSEL_PREFIX = "A photo depicts "
HESSEL_W = 2.5


@dataclass(frozen=True)
class Options:
    model: str = "probe"  # probe | an open_clip model name | local-dir:PATH
    pretrained: str | None = None  # local file for open_clip names; a checkpoint dir for probe
    variant: str = "torchmetrics"  # torchmetrics | hessel | cosine
    mode: str = "clean"  # resize to the model's input size
    batch_size: int = 64
    bootstrap: int = 200  # rounds of the bootstrap interval; 0 = none


def per_pair(cos: np.ndarray, variant: str) -> np.ndarray:
    """Per-pair scores (N,) from cosines (N,)."""
    if variant == "torchmetrics":
        return 100.0 * cos
    if variant == "hessel":
        return HESSEL_W * np.clip(cos, 0.0, None)
    return cos


def aggregate(scores: np.ndarray, variant: str) -> float:
    mean = float(scores.mean())
    return max(mean, 0.0) if variant == "torchmetrics" else mean  # torchmetrics clamps the mean


class ClipScorer:
    """Unit-norm image and text embeddings of one CLIP model."""

    def __init__(self, model: str, pretrained: str | None) -> None:
        self._net = self._tokenize = self._probe = None
        if model == "probe":  # identity now, model on the first cosines(): cached scores never need it
            from musebench.metrics.probe_model import probe_identity

            directory, cfg, self.fingerprint = probe_identity(pretrained or "probe-clip")
            self._probe = (directory, cfg)
            self.mean, self.std, self.size = cfg.mean, cfg.std, cfg.image_size
        else:
            import open_clip

            from musebench.metrics.extractors import load_open_clip

            self._net, self.mean, self.std, self.size, self.fingerprint = load_open_clip(model, pretrained)
            self._tokenize = open_clip.get_tokenizer(model)

    def _load(self) -> None:
        if self._net is None:
            from musebench.metrics.probe_model import load_probe_model, tokenizer

            directory, cfg = self._probe
            self._net, self._tokenize = load_probe_model(directory, cfg), tokenizer(cfg)

    @property
    def net(self) -> torch.nn.Module:
        self._load()
        return self._net

    @property
    def tokenize(self):
        self._load()
        return self._tokenize

    def cosines(self, images: torch.Tensor, texts: list[str], mode: str, batch_size: int) -> np.ndarray:
        """cos(image_i, text_i) for aligned pairs: (N,) float64."""
        import torch

        with torch.no_grad():
            return self._cosines(images, texts, mode, batch_size)

    def _cosines(self, images: torch.Tensor, texts: list[str], mode: str, batch_size: int) -> np.ndarray:
        from musebench.metrics.preprocess import resize

        out = []
        for s in range(0, len(texts), batch_size):
            x = (resize(images[s : s + batch_size], self.size, mode, crop=True) / 255.0 - self.mean) / self.std  # (B, 3, S, S)
            img = self.net.encode_image(x, normalize=True)  # (B, E)
            txt = self.net.encode_text(self.tokenize(texts[s : s + batch_size]), normalize=True)  # (B, E)
            out.append((img * txt).sum(dim=-1).double().numpy())
        return np.concatenate(out)


class ClipScoreMetric:
    def __init__(self, options: Options) -> None:
        if options.variant not in VARIANTS:
            raise MusebenchError(f"clip_score.variant '{options.variant}' is not one of {', '.join(VARIANTS)}")
        from musebench.metrics.preprocess import check_mode

        check_mode(options.mode)
        if options.batch_size < 1 or options.bootstrap < 0:
            raise MusebenchError(f"clip_score: batch_size must be >= 1 and bootstrap >= 0, got {options.batch_size}, {options.bootstrap}")
        self.options = options
        self.name = f"clip_score/{options.model}"
        self._scorer = None

    def scorer(self) -> ClipScorer:
        if self._scorer is None:
            self._scorer = ClipScorer(self.options.model, self.options.pretrained)
        return self._scorer

    def preflight(self, records) -> None:
        """The CLIP model's weights file fits its network, checked without building it (the network
        loads on the first uncached score, so a warm run never builds it) (metrics/base.py: Metric)."""
        check_files(self.options)

    def compute(self, ctx: EvalContext) -> list[MetricValue]:
        o = self.options
        from musebench.metrics.preprocess import check_images

        check_images(ctx.images, "clip_score")
        if len(ctx.prompts) != ctx.images.shape[0] or not ctx.prompts:
            raise MusebenchError(f"clip_score: {ctx.images.shape[0]} images but {len(ctx.prompts)} prompts; they must align one to one")
        texts = [(HESSEL_PREFIX if o.variant == "hessel" else "") + r.prompt for r in ctx.prompts]
        scores = per_pair(cached_cosines(self.scorer(), ctx.images, texts, o.mode, o.batch_size, ctx.feature_cache_dir), o.variant)
        ci = None
        if o.bootstrap and len(scores) >= 2:
            ci = bootstrap_interval(len(scores), lambda idx: aggregate(scores[idx], o.variant), seed=ctx.seed, rounds=o.bootstrap)
        extra = {"variant": o.variant, "mode": o.mode, "fingerprint": self.scorer().fingerprint, "std": float(scores.std())}
        items = keyed(ctx.item_keys, scores)  # per pair; their mean is the value (torchmetrics: before its clamp at 0)
        return [MetricValue(self.name, aggregate(scores, o.variant), len(scores), True, ci, extra, items)]


def cached_cosines(scorer: ClipScorer, images: torch.Tensor, texts: list[str], mode: str, batch_size: int,
                   cache_dir: Path | None) -> np.ndarray:
    """scorer.cosines, read from / written to the derived store at cache_dir (clipscore-<mode>-<key>.npy)
    when cache_dir is set.

    The key hashes what the cosines depend on: the model's fingerprint, the preprocessing mode and
    input size, the images' bytes and the texts (with any prefix) -- like the image feature cache
    (features.py), so a warm run neither recomputes them nor loads the model."""
    from musebench.cache.derived import DerivedStore

    if cache_dir is None:
        return scorer.cosines(images, texts, mode, batch_size)
    store, kind = DerivedStore(cache_dir), f"clipscore-{mode}"
    key = store.key(f"{scorer.fingerprint}|{mode}|{scorer.size}|{tuple(images.shape)}|", images, json.dumps(texts).encode())
    cosines = store.get_npy(kind, key)
    if cosines is None:
        cosines = scorer.cosines(images, texts, mode, batch_size)
        store.put_npy(kind, key, cosines)
    return cosines


def check_files(options: Options) -> None:
    """The CLIP model's (or probe's) weights file fits its network, torch-free (the preflight)."""
    from musebench.metrics.extractor_weights import ExtractorSpec, check_weights

    o = options
    check_weights(ExtractorSpec("probe", o.pretrained) if o.model == "probe" else ExtractorSpec("clip", o.pretrained, o.model))


def file_problems(options: Options) -> list[str]:
    """check_files as a list of problems: the run's torch-free half (runner/early_metrics.py)."""
    try:
        check_files(options)
    except MusebenchError as exc:
        return [str(exc)]
    return []


def outputs(options: Options) -> tuple[str, ...]:
    """The row this metric writes (suite/parse.py checks gates against it): one per CLIP model."""
    return (f"clip_score/{options.model}",)


def build(options: Options) -> ClipScoreMetric:
    return ClipScoreMetric(options)
