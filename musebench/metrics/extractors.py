"""Named feature extractors for FID/KID: `inception`, `clip`, `probe`, `dinov2`, `random-vgg` (explicit registry).

Every extractor maps a float32 image batch (N, 3, S, S) in [0, 255], already resized to its
`input_size` by a named preprocessing mode in the extractor's geometry (`crop`: squash, or short
side + centre crop: preprocess.py), to features (N, dim). Its
`fingerprint` (cache/fingerprint.py: every weights/config file, the normalisation, the code version)
enters every feature cache key.
    inception  torch-fidelity's FID Inception-v3, 2048-d pool3 (inception.py)
    clip       an open_clip model's image embedding, L2-normalised, as clean-fid's CLIP features
               ("FD in CLIP space", Kynkaanniemi et al. 2023); model by name + a local
               pretrained file, or `local-dir:PATH` (open_clip's own local format)
    probe      the shipped in-domain probe CLIP (probe_model.py), L2-normalised image embedding
    dinov2     DINOv2's last-layer CLS token, dgm-eval's protocol (Stein et al. 2023), from a local
               transformers save_pretrained folder (dinov2.py)
    random-vgg VGG-16's first two blocks with seeded random weights, mean of relu2_2, 128-d: low-level
               detail (edges, blur) an in-domain CLIP does not see (random_vgg.py)
"""

from __future__ import annotations

from pathlib import Path

import torch

from musebench.cache.fingerprint import fingerprint, folder_files, hash_files
from musebench.errors import MusebenchError
from musebench.metrics.clip_weights import check_clip_shapes, clip_file, clip_file_shapes, clip_reason
from musebench.metrics.extractor_weights import EXTRACTORS, ExtractorSpec, check_name, check_weights  # noqa: F401 (public here too)


CLIP_CODE_VERSION = 2  # bump when embed() or clip_score's cosines compute something else (cache/fingerprint.py)
# 2: short side + centre crop, uint8-rounded in clean mode (preprocess.py), where 1 squashed non-square images


class ClipExtractor:
    name = "clip"
    crop = True  # CLIP's protocol: short side to input_size, then the centre (preprocess.py)

    def __init__(self, model: str, weights: str | None) -> None:
        self.model, self.mean, self.std, self.input_size, self.fingerprint = load_open_clip(model, weights)
        self.dim = int(self.model.visual.output_dim)

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = (x / 255.0 - self.mean) / self.std  # (N, 3, S, S), open_clip's normalisation
        return self.model.encode_image(x, normalize=True)  # (N, D) unit norm


class ProbeExtractor:
    name = "probe"
    crop = True  # a CLIP: preprocessed as one (preprocess.py)

    def __init__(self, checkpoint: str | None) -> None:
        from musebench.metrics.probe_model import probe_identity

        self._directory, self.cfg, self.fingerprint = probe_identity(checkpoint or "probe-clip")
        self.input_size, self.dim = self.cfg.image_size, self.cfg.embed_dim
        self._model = None  # built on the first embed(): cached features never need it

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            from musebench.metrics.probe_model import load_probe_model

            self._model = load_probe_model(self._directory, self.cfg)
        return self._model

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = (x / 255.0 - self.cfg.mean) / self.cfg.std  # as probe_model.normalise, on a float image
        return self.model.encode_image(x, normalize=True)  # (N, D) unit norm


def load_open_clip(model: str, weights: str | None):
    """(model, mean (1,3,1,1), std (1,3,1,1), image size, fingerprint); never downloads.

    The fingerprint (cache/fingerprint.py) hashes every file open_clip may have read: for local-dir,
    each file of the folder (its loader takes model.safetensors, pytorch_model.bin, ... as well as
    the open_clip_* names), else the pretrained file."""
    if model.startswith("local-dir:"):
        import open_clip

        directory = Path(model[len("local-dir:"):]).expanduser()
        if not (directory / "open_clip_config.json").is_file():
            raise MusebenchError(f"clip model {model}: no open_clip_config.json in {directory}; give a directory saved in open_clip's local format")
        net = open_clip.create_model(model, require_pretrained=True)
        files = hash_files(folder_files(directory), root=directory)
    else:
        path = clip_file(model, weights)
        check_clip_shapes(model, path, clip_file_shapes(path))  # a file that is no state dict is refused before open_clip is imported
        import open_clip

        try:
            net = open_clip.create_model(model, pretrained=str(path), require_pretrained=True)
        except (RuntimeError, KeyError, ValueError) as exc:  # open_clip's own conversions refused the file
            raise MusebenchError(f"clip model '{model}' with pretrained {path}: {clip_reason(exc)}") from None
        files = hash_files([Path(weights).expanduser()])
    net.eval().requires_grad_(False)
    cfg = net.visual.preprocess_cfg
    mean = torch.tensor(cfg["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(cfg["std"]).view(1, 3, 1, 1)
    size = net.visual.image_size
    size = int(size[0] if isinstance(size, (tuple, list)) else size)
    preprocessing = {"input_size": size, "mean": list(cfg["mean"]), "std": list(cfg["std"])}
    return net, mean, std, size, fingerprint(f"open_clip:{model}", files, preprocessing, CLIP_CODE_VERSION)


def build_extractor(spec: ExtractorSpec):
    if spec.name == "inception":
        from musebench.metrics.inception import InceptionExtractor

        return InceptionExtractor(spec.weights)
    if spec.name == "clip":
        return ClipExtractor(spec.model, spec.weights)
    if spec.name == "dinov2":
        from musebench.metrics.dinov2 import Dinov2Extractor

        return Dinov2Extractor(spec.weights)
    if spec.name == "random-vgg":
        from musebench.metrics.random_vgg import RandomVggExtractor

        check_weights(spec)  # refuses a weights file
        return RandomVggExtractor()
    check_name(spec.name)
    return ProbeExtractor(spec.weights)
