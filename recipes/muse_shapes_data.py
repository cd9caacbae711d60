"""Precomputed training tensors for the reference Muse on the shapes world.

The transformer never sees pixels or runs the text encoder while training: both would cost more
CPU per step than the transformer itself. We render a fixed training set once, tokenize it once with
the trained VQ, and encode each UNIQUE caption once (fp16), then train on those tensors.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tqdm import tqdm

from musebench.cache.atomic import write_atomic_via
from musebench.errors import MusebenchError


def _save(obj: dict, path: Path) -> None:
    write_atomic_via(path, lambda tmp: torch.save(obj, tmp))


def load(path: Path) -> dict:
    if not path.is_file():
        raise MusebenchError(f"{path}: missing; run the stage that writes it first (see --help)")
    return torch.load(path, map_location="cpu", weights_only=False)


def render_training_set(path: Path, n: int, seed: int, size: int) -> dict:
    """Render ShapesDataset("train", size, seed, n) once -> {images uint8 (N,3,H,W), captions}."""
    if path.is_file():
        return load(path)
    from musebench.shapes import ShapesDataset

    dataset = ShapesDataset(split="train", size=size, seed=seed, length=n)
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    captions = []
    for i in tqdm(range(n), desc="render train set", mininterval=10):
        images[i], text = dataset[i]
        captions.append(text)
    data = {"images": images, "captions": captions, "seed": seed, "size": size}
    _save(data, path)
    return data


@torch.no_grad()
def tokenize_images(vq, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> VQ ids (N, g*g) int16."""
    from reference_model.tokenizer import to_unit

    out = []
    for i in tqdm(range(0, images.shape[0], batch_size), desc="tokenize", mininterval=10):
        out.append(vq.encode(to_unit(images[i : i + batch_size])).flatten(1).to(torch.int16))
    return torch.cat(out)


@torch.no_grad()
def encode_captions(encoder, captions: list[str], batch_size: int = 256) -> dict:
    """Unique captions (and "") -> {hidden (U, L, D) fp16, mask (U, L), index (N,), empty_index}.

    Captions are encoded in length-sorted batches; every caption is padded to max_length by the
    encoder, so the stored states equal what the sampler computes at generation time.
    """
    unique = sorted(set(captions) | {""}, key=lambda c: (len(c), c))
    row = {c: i for i, c in enumerate(unique)}
    hidden, mask = _encode(encoder, unique, batch_size)
    index = torch.tensor([row[c] for c in captions], dtype=torch.long)
    return {"hidden": hidden, "mask": mask, "index": index, "empty_index": row[""], "unique": unique}


def _encode(encoder, texts: list[str], batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """texts -> (hidden (U, L, D) fp16, mask (U, L)), in batches."""
    hidden, mask = [], []
    for i in tqdm(range(0, len(texts), batch_size), desc="encode captions", mininterval=10):
        h, m = encoder(texts[i : i + batch_size])
        hidden.append(h.half())
        mask.append(m)
    return torch.cat(hidden), torch.cat(mask)


def caption_token_lengths(encoder, captions: list[str]) -> int:
    """Longest caption in tokens (with special tokens): must fit text_encoder.max_length."""
    unique = sorted(set(captions))
    return max(len(ids) for ids in encoder.tokenizer(unique)["input_ids"])


def build_token_data(path: Path, vq, encoder, data: dict) -> dict:
    if path.is_file():
        return load(path)
    longest = caption_token_lengths(encoder, data["captions"])
    if longest > encoder.config.max_length:
        raise MusebenchError(
            f"captions are up to {longest} tokens but text_encoder.max_length={encoder.config.max_length}; raise it"
        )
    tokens = tokenize_images(vq, data["images"])
    text = encode_captions(encoder, data["captions"])
    out = {"tokens": tokens, **text, "longest_caption_tokens": longest}
    _save(out, path)
    return out


INVERSE_RELATION = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def recaption(text: str, edit) -> str:
    """The caption of edit(scene of `text`) in the template `text` uses (a Scene -> Scene function)."""
    from musebench.shapes.captions import TEMPLATES, caption, parse_caption

    scene = parse_caption(text)
    variant = next(v for v in range(len(TEMPLATES[scene.category])) if caption(scene, v) == text)
    return caption(edit(scene), variant)


def converse_caption(text: str) -> str | None:
    """"A <relation> B" -> "B <inverse relation> A" in the same template: the same picture, the
    objects named in the other order. None for captions without a relation."""
    from dataclasses import replace

    from musebench.shapes.captions import parse_caption

    if parse_caption(text).relation is None:
        return None
    return recaption(text, lambda s: replace(s, objects=s.objects[::-1], relation=INVERSE_RELATION[s.relation]))


def add_converse_captions(encoder, tokens: dict, captions: list[str]) -> dict:
    """`tokens` (build_token_data's) plus `alt_index` (N,): the row of each image's converse caption
    (-1 where none), the new captions encoded and appended to `hidden`/`mask`/`unique`."""
    return _with_alternatives(encoder, tokens, captions, converse_caption, "converse captions")


def _with_alternatives(encoder, tokens: dict, captions: list[str], alternative, desc: str) -> dict:
    """`tokens` plus `alt_index` (N,): the row of alternative(caption) per image (-1 where it is None);
    captions not encoded yet are encoded and appended to `hidden`/`mask`/`unique`."""
    row = {c: i for i, c in enumerate(tokens["unique"])}
    per_unique = {c: alternative(c) for c in tqdm(sorted(set(captions)), desc=desc, mininterval=10)}
    new = sorted({c for c in per_unique.values() if c is not None and c not in row}, key=lambda c: (len(c), c))
    hidden, mask = tokens["hidden"], tokens["mask"]
    if new:
        h, m = _encode(encoder, new)
        hidden, mask = torch.cat([hidden, h]), torch.cat([mask, m])
    unique = [*tokens["unique"], *new]
    row.update({c: len(tokens["unique"]) + i for i, c in enumerate(new)})
    alt = torch.tensor([row[per_unique[c]] if per_unique[c] is not None else -1 for c in captions], dtype=torch.long)
    return {**tokens, "hidden": hidden, "mask": mask, "unique": unique, "alt_index": alt}


CANONICAL_RELATIONS = ("left of", "above")


def canonical_alternatives(tokens: dict, captions: list[str]) -> dict:
    """add_converse_captions' dict with `alt_index` kept only where the caption says "right of" or
    "below": their converse names the same picture with "left of" / "above".

    Why: with the four relations equally common, where object A goes is an XOR of two facts (is A
    named first? is the relation "left of" or "right of"?), and neither fact alone says anything, so
    gradient descent finds no signal in either: the 11,200-step model ignored both (swapping the
    objects or the relation's direction moved its loss by <= 0.01 nats/token, the axis word by 0.53;
    benchmarks/results/muse_relation_probe_shipped.json). In canonical captions word order alone says
    where each object goes, which the model learns in a few hundred steps (the relations stage).
    """
    from musebench.shapes.captions import parse_caption

    keep = torch.tensor([parse_caption(c).relation not in (None, *CANONICAL_RELATIONS) for c in captions])
    return {**tokens, "alt_index": torch.where(keep, tokens["alt_index"], torch.full_like(tokens["alt_index"], -1))}


def subject_caption(text: str) -> str | None:
    """A position caption that names only its subject: "A <relation> B" -> "A <relation> something"
    (the same picture). None for captions without a relation."""
    from musebench.shapes.captions import RELATION_PHRASES, _article, parse_caption

    scene = parse_caption(text)
    if scene.relation is None:
        return None
    words = " ".join(w for w in (scene.objects[0].colour, scene.objects[0].shape) if w)
    return f"{_article(words)} {words} {RELATION_PHRASES[scene.relation]} something"


def add_subject_captions(encoder, tokens: dict, captions: list[str]) -> dict:
    """`tokens` plus `alt_index` (N,): the row of each image's subject caption (-1 where none)."""
    return _with_alternatives(encoder, tokens, captions, subject_caption, "subject captions")


def relation_captions(encoder, tokens: dict, captions: list[str]) -> dict:
    """`tokens` plus, per image, the row of its canonical caption (`canonical_index`: "B left of A" for
    "A right of B", the caption itself otherwise) and of its subject caption (`subject_index`, -1
    without a relation), all new captions encoded once; `position_rows` lists the position images."""
    converse = canonical_alternatives(add_converse_captions(encoder, tokens, captions), captions)
    canonical = torch.where(converse["alt_index"] >= 0, converse["alt_index"], tokens["index"])
    subject = add_subject_captions(encoder, converse, captions)
    rows = torch.nonzero(subject["alt_index"] >= 0).flatten()
    return {**subject, "canonical_index": canonical, "subject_index": subject["alt_index"], "position_rows": rows}


def relation_token_data(relations: dict, forms: tuple[str, ...], everything: bool):
    """The training rows of one phase of the relations stage: each position image once per caption
    form in `forms` ("original", "canonical", "subject"), after every image with its own caption if `everything`."""
    from reference_model.training import TokenData

    index = {"original": relations["index"], "canonical": relations["canonical_index"], "subject": relations["subject_index"]}
    rows = relations["position_rows"]
    tokens = [relations["tokens"][rows] for _ in forms]
    captions = [index[form][rows] for form in forms]
    if everything:
        tokens, captions = [relations["tokens"], *tokens], [relations["index"], *captions]
    return TokenData(tokens=torch.cat(tokens), caption_index=torch.cat(captions), text_hidden=relations["hidden"],
                     text_mask=relations["mask"], empty_index=relations["empty_index"])


BINDING_CATEGORIES = ("color_attr",)


def binding_token_data(tokens: dict, captions: list[str], extra: int):
    """The binding stage's rows: every image once with its own caption, then the images of
    BINDING_CATEGORIES (two objects, a colour each) `extra` more times."""
    from musebench.shapes.captions import parse_caption
    from reference_model.training import TokenData

    rows = torch.tensor([i for i, c in enumerate(captions) if parse_caption(c).category in BINDING_CATEGORIES],
                        dtype=torch.long)
    return TokenData(tokens=torch.cat([tokens["tokens"], *[tokens["tokens"][rows]] * extra]),
                     caption_index=torch.cat([tokens["index"], *[tokens["index"][rows]] * extra]),
                     text_hidden=tokens["hidden"], text_mask=tokens["mask"], empty_index=tokens["empty_index"])


def token_data(tokens: dict):
    """build_token_data's (or add_converse_captions') dict -> the training loop's TokenData."""
    from reference_model.training import TokenData

    return TokenData(tokens=tokens["tokens"], caption_index=tokens["index"], text_hidden=tokens["hidden"],
                     text_mask=tokens["mask"], empty_index=tokens["empty_index"],
                     alt_caption_index=tokens.get("alt_index"))
