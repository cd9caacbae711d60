"""The `dinov2` feature extractor: DINOv2's CLS token from a user's local transformers folder.

Protocol: dgm-eval's (Stein et al. 2023, "Exposing flaws of generative model evaluation metrics and
their unfair treatment of diffusion models"; layer6ai-labs/dgm-eval dgm_eval/models/dinov2.py):
ViT-L/14 (`dinov2_vitl14`), images resized to 224 x 224 with bicubic, ImageNet mean/std, and the
feature is the CLS token of the last layer after the final LayerNorm (the hub model's
`x_norm_clstoken`; transformers' Dinov2Model last_hidden_state[:, 0], = its pooler_output), so
1024-d for ViT-L/14 and `hidden_size` of the folder's config in general.
Geometry: dgm-eval's transform is `Resize((224, 224), BICUBIC)`, a squash of the whole image with
no centre crop, so `crop = False` here (preprocess.py); on square images both agree.

Weights: never downloaded. `extractor_weights: DIR` is a transformers save_pretrained folder of a
Dinov2Model (e.g. facebook/dinov2-large saved by the user), checked torch-free in dinov2_weights.py
before any image. The fingerprint (cache/fingerprint.py) hashes every file of the folder, the
preprocessing and DINOV2_CODE_VERSION.
"""

from __future__ import annotations

import torch

from musebench.cache.fingerprint import fingerprint, folder_files, hash_files
from musebench.errors import MusebenchError
from musebench.metrics.dinov2_weights import check_folder, dinov2_folder, read_config

DINOV2_CODE_VERSION = 1  # bump when embed() computes something else (cache/fingerprint.py)
INPUT_SIZE = 224  # dgm-eval: TF.Resize((224, 224), BICUBIC)
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # dgm-eval dinov2.py imagenet_mean
IMAGENET_STD = (0.229, 0.224, 0.225)  # dgm-eval dinov2.py imagenet_std


class Dinov2Extractor:
    name = "dinov2"
    crop = False  # dgm-eval squashes to 224 x 224 (no centre crop)
    input_size = INPUT_SIZE

    def __init__(self, weights: str | None) -> None:
        check_folder(weights)
        self._directory = dinov2_folder(weights)
        self.dim = int(read_config(self._directory)["hidden_size"])
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        preprocessing = {"input_size": INPUT_SIZE, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                         "geometry": "squash", "feature": "cls_last_layer_norm"}
        files = hash_files(folder_files(self._directory), root=self._directory)
        self.fingerprint = fingerprint("dinov2", files, preprocessing, DINOV2_CODE_VERSION)
        self._model = None  # built on the first embed(): cached features never need it

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            self._model = load_dinov2(self._directory)
        return self._model

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = (x / 255.0 - self.mean) / self.std  # (N, 3, 224, 224), ImageNet normalisation
        return self.model(pixel_values=x).last_hidden_state[:, 0]  # (N, hidden): CLS after the final LayerNorm


def load_dinov2(directory) -> torch.nn.Module:
    """transformers' Dinov2Model from the local folder only, float32, eval mode."""
    from transformers import Dinov2Model

    try:
        model = Dinov2Model.from_pretrained(str(directory), local_files_only=True, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as exc:
        raise MusebenchError(f"dinov2 weights {directory}: transformers could not load a Dinov2Model ({str(exc).splitlines()[0]})") from None
    return model.eval().requires_grad_(False)
