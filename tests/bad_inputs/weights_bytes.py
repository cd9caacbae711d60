"""Weights files as bytes, for the weights tests and the weights cases of the bad-input corpus.

Bad pickles (a list, a bare tensor, a pickle that would run code, a cut zip) and tiny checkpoint
directories (a Muse with a 16 px tokenizer and a width-8 transformer: kilobytes, not the shipped
13 MB) whose config.json and model.safetensors disagree.
"""

from __future__ import annotations

import io
import json

import torch

MARKER = "musebench_pwned"  # the file the code-running pickle would create in the working directory


class RunsCode:
    """Unpickles to a call of open(MARKER, "w"): weights_only=True must refuse it, never run it."""

    def __reduce__(self):
        return (open, (MARKER, "w"))


def torch_bytes(obj, legacy: bool = False) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def list_pth() -> bytes:
    return torch_bytes([torch.zeros(2, 2), torch.ones(3)])


def tensor_pth() -> bytes:
    return torch_bytes(torch.zeros(4, 4))


def code_pth() -> bytes:
    return torch_bytes({"fc.weight": RunsCode()})


def cut_pth() -> bytes:
    data = torch_bytes({"fc.weight": torch.zeros(64, 64)})
    return data[: len(data) // 2]


def nested_pth() -> bytes:
    """A training checkpoint ({'model': state, 'step': n}), not a state dict."""
    return torch_bytes({"model": {"fc.weight": torch.zeros(2, 2)}, "step": 100})


def tiny_muse_config(width: int = 8) -> dict:
    from reference_model.config import MuseConfig, SamplerConfig, TransformerConfig, VQConfig, to_dict

    config = MuseConfig(
        vq=VQConfig(image_size=16, channels=(8, 8, 8), res_blocks=(0, 1, 0), codebook_size=16, code_dim=4),
        transformer=TransformerConfig(vocab_size=16, grid=4, width=width, depth=1, heads=2, mlp_ratio=2),
        sampler=SamplerConfig(steps=3, guidance=1.5, temperature=2.0),
    )
    return {"adapter": "muse", "format": "reference_model.muse/1", "model": to_dict(config)}


def tiny_muse_json(width: int = 8) -> bytes:
    return json.dumps(tiny_muse_config(width), indent=2).encode()


def tiny_muse_weights(width: int = 8, reshape: str | None = None, drop: str | None = None) -> bytes:
    """model.safetensors of the tiny Muse; `reshape` gives that key one more row, `drop` leaves it out."""
    from safetensors.torch import save

    from reference_model.config import muse_config_from_dict
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    config = muse_config_from_dict(tiny_muse_config(width)["model"], "tiny")
    torch.manual_seed(0)
    tensors = {f"{prefix}.{k}": v.contiguous() for prefix, module in
               (("vq", VQModel(config.vq)), ("transformer", MaskedTransformer(config.transformer)))
               for k, v in module.state_dict().items()}
    if reshape is not None:
        tensors[reshape] = torch.zeros(tensors[reshape].shape[0] + 1, *tensors[reshape].shape[1:])
    if drop is not None:
        del tensors[drop]
    return save(tensors, metadata={"format": "reference_model.muse/1"})
