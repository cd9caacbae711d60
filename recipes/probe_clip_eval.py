"""Validation of the probe CLIP: zero-shot attribute accuracy and retrieval recall@1 on shapes val.

Zero-shot attribute accuracy (CLIP's zero-shot protocol, Radford et al. 2021 sec. 3.1.2, applied to
one attribute at a time): for a val scene and an attribute it constrains (shape, colour, size,
position, count, relation of its first object), caption every valid variant of the scene that
differs only in that attribute (template 0) and count the image as right when its own caption
scores highest. Chance is 1 / (number of variants): 1/5 shape, 1/8 colour, 1/2 size, 1/9 position,
1/3 count, 1/4 relation. Recall@1: image->text and text->image over the N val pairs.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from musebench.errors import MusebenchError
from musebench.metrics.probe_model import ProbeConfig, normalise, tokenizer

_OBJECT_ATTRS = ("shape", "colour", "size", "position")


def _variants(scene, attr: str) -> list:
    """Valid scenes differing from `scene` only in `attr`; the scene itself first."""
    from musebench.shapes.vocab import COLOURS, COUNT_WORDS, POSITIONS, RELATIONS, SHAPES, SIZES

    options = {"shape": SHAPES, "colour": tuple(COLOURS), "size": tuple(SIZES), "position": POSITIONS,
               "count": tuple(COUNT_WORDS), "relation": RELATIONS}[attr]
    out = [scene]
    for value in options:
        try:
            if attr in _OBJECT_ATTRS:
                if getattr(scene.objects[0], attr) in (None, value):
                    continue
                objects = (replace(scene.objects[0], **{attr: value}), *scene.objects[1:])
                out.append(replace(scene, objects=objects))
            elif getattr(scene, attr) != value and (attr != "count" or scene.category == "counting") and (
                attr != "relation" or scene.relation is not None
            ):
                out.append(replace(scene, **{attr: value}))
        except MusebenchError:  # e.g. colour_attr with both colours equal: not a valid scene
            continue
    return out


@torch.no_grad()
def embed_texts(model, cfg: ProbeConfig, texts: list[str], batch: int = 512) -> torch.Tensor:
    tok = tokenizer(cfg)
    parts = [model.encode_text(tok(texts[i : i + batch]), normalize=True) for i in range(0, len(texts), batch)]
    return torch.cat(parts)  # (T, E), unit norm


@torch.no_grad()
def embed_images(model, cfg: ProbeConfig, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    parts = [model.encode_image(normalise(images[i : i + batch], cfg), normalize=True) for i in range(0, len(images), batch)]
    return torch.cat(parts)  # (N, E), unit norm


def evaluate(model, cfg: ProbeConfig, n: int = 1000, seed: int = 0) -> dict:
    """{"recall@1_i2t", "recall@1_t2i", "zero_shot/<attr>": accuracy, "n": n} on shapes val."""
    from musebench.shapes import caption, render, sample_prompts, scene_from_dict

    records = sample_prompts("val", n, seed)
    scenes = [scene_from_dict(r.scene) for r in records]
    images = torch.stack([torch.from_numpy(render(s, cfg.image_size)).permute(2, 0, 1) for s in scenes])  # (N,3,S,S)
    img = embed_images(model, cfg, images)
    txt = embed_texts(model, cfg, [r.prompt for r in records])
    sim = img @ txt.T  # (N, N)
    target = torch.arange(n)
    result = {
        "n": n,
        "recall@1_i2t": float((sim.argmax(dim=1) == target).float().mean()),
        "recall@1_t2i": float((sim.argmax(dim=0) == target).float().mean()),
    }
    hits: dict[str, list[bool]] = {}
    for i, scene in enumerate(scenes):
        for attr in (*_OBJECT_ATTRS, "count", "relation"):
            variants = _variants(scene, attr)
            if len(variants) < 2:
                continue
            scores = embed_texts(model, cfg, [caption(v, 0) for v in variants]) @ img[i]  # (V,)
            hits.setdefault(attr, []).append(int(scores.argmax()) == 0)
    for attr, h in sorted(hits.items()):
        result[f"zero_shot/{attr}"] = sum(h) / len(h)
        result[f"zero_shot/{attr}_n"] = len(h)
    return result
