"""Captions: several templates per category, and a parser that inverts every template exactly.

Templates follow GenEval's prompt forms ("a photo of a red car", "a photo of three cats",
"a photo of a dog left of a cat") plus paraphrases. Slots:
    {art} {art2}     "a" or "an" for the next word          {shape} {shape2}   a shape
    {colour} {colour2}  a colour name                        {size}             small / large
    {position}       a 3x3 cell name                         {count} {shapes}   "three", "stars"
    {relation}       "to the left of", "above", ...         {rel}              GenEval's "left of", ...
`caption(scene, variant)` uses template `variant % len(templates)` of the scene's category;
`parse_caption(caption(scene, v)) == replace(scene, seed=0)` for every template (tests).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from functools import lru_cache

from musebench.errors import MusebenchError
from musebench.shapes.scene import ObjectSpec, Scene
from musebench.shapes.vocab import COLOURS, COUNT_WORDS, PLURALS, POSITIONS, RELATIONS, SHAPES, SIZES

TEMPLATES: dict[str, tuple[str, ...]] = {
    "single_object": (
        "{art} {size} {shape} in the {position}",
        "a photo of {art} {size} {shape} in the {position}",
        "in the {position}, {art} {size} {shape}",
        "{art} {size} {shape} placed in the {position} of the image",
    ),
    "colors": (
        "{art} {colour} {shape}",
        "a photo of {art} {colour} {shape}",
        "{art} {shape} that is {colour}",
        "one {colour} {shape}",
    ),
    "counting": (
        "{count} {colour} {shapes}",
        "a photo of {count} {colour} {shapes}",
        "{count} {shapes}, all {colour}",
        "exactly {count} {colour} {shapes}",
    ),
    "two_object": (
        "{art} {shape} and {art2} {shape2}",
        "a photo of {art} {shape} and {art2} {shape2}",
        "{art} {shape} together with {art2} {shape2}",
    ),
    "color_attr": (
        "{art} {colour} {shape} and {art2} {colour2} {shape2}",
        "a photo of {art} {colour} {shape} and {art2} {colour2} {shape2}",
        "{art} {shape} that is {colour} and {art2} {shape2} that is {colour2}",
    ),
    "position": (
        "{art} {colour} {shape} {relation} {art2} {colour2} {shape2}",
        "a photo of {art} {colour} {shape} {rel} {art2} {colour2} {shape2}",
        "{art} {colour} {shape} is {relation} {art2} {colour2} {shape2}",
    ),
}

RELATION_PHRASES = {"left of": "to the left of", "right of": "to the right of", "above": "above", "below": "below"}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _slots(scene: Scene) -> dict[str, str]:
    a = scene.objects[0]
    slots = {"shape": a.shape, "shapes": PLURALS[a.shape]}
    if a.colour:
        slots["colour"] = a.colour
    if a.size:
        slots["size"] = a.size
    if a.position:
        slots["position"] = a.position
    if scene.category == "counting":
        slots["count"] = COUNT_WORDS[scene.count]
    if len(scene.objects) == 2:
        b = scene.objects[1]
        slots["shape2"] = b.shape
        if b.colour:
            slots["colour2"] = b.colour
    if scene.relation:
        slots["relation"], slots["rel"] = RELATION_PHRASES[scene.relation], scene.relation
    return slots


def _fill(template: str, slots: dict[str, str]) -> str:
    """Fill slots; {art}/{art2} agree with the word that follows them."""
    text = template.format(art="{art}", art2="{art2}", **{k: v for k, v in slots.items()})
    return re.sub(r"\{art2?\} (\w+)", lambda m: f"{_article(m.group(1))} {m.group(1)}", text)


def caption(scene: Scene, variant: int = 0) -> str:
    """The caption of `scene` in template `variant` (modulo the number of templates)."""
    templates = TEMPLATES[scene.category]
    return _fill(templates[variant % len(templates)], _slots(scene))


def scene_slots(scene: Scene) -> dict[str, str]:
    """The words a caption of `scene` fills its template slots with (the module docstring's names)."""
    return _slots(scene)


def fill_template(template: str, slots: dict[str, str]) -> str:
    """`template` with its slots filled; {art}/{art2} agree with the word that follows them."""
    return _fill(template, slots)


# ---- parsing --------------------------------------------------------------------------------------

_VOCAB = {
    "shape": SHAPES, "shape2": SHAPES, "shapes": tuple(PLURALS.values()),
    "colour": tuple(COLOURS), "colour2": tuple(COLOURS), "size": tuple(SIZES),
    "position": POSITIONS, "count": tuple(COUNT_WORDS.values()) + tuple(str(n) for n in COUNT_WORDS),
    "relation": tuple(RELATION_PHRASES.values()), "rel": RELATIONS,
}  # fmt: skip


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for part in parts:
        if part in ("{art}", "{art2}"):
            out.append("an?")
        elif part.startswith("{"):
            name = part[1:-1]
            alts = "|".join(re.escape(w) for w in sorted(_VOCAB[name], key=len, reverse=True))
            out.append(f"(?P<{name}>{alts})")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[str, str, re.Pattern]]:
    return [(cat, t, _template_regex(t)) for cat, ts in TEMPLATES.items() for t in ts]


def _normalise(text: str) -> str:
    return " ".join(text.strip().lower().rstrip(".").split())


def _scene_from_match(category: str, g: dict[str, str]) -> Scene:
    plural_to_shape = {p: s for s, p in PLURALS.items()}
    words_to_count = {w: n for n, w in COUNT_WORDS.items()} | {str(n): n for n in COUNT_WORDS}
    rel = g.get("rel") or {p: r for r, p in RELATION_PHRASES.items()}.get(g.get("relation", ""))
    shape = g.get("shape") or plural_to_shape.get(g.get("shapes", ""))
    first = ObjectSpec(shape=shape, colour=g.get("colour"), size=g.get("size"), position=g.get("position"))
    objects = (first,) if "shape2" not in g else (first, ObjectSpec(shape=g["shape2"], colour=g.get("colour2")))
    count = words_to_count[g["count"]] if "count" in g else 1
    return Scene(category=category, objects=objects, count=count, relation=rel, seed=0)


_EXAMPLES = {
    "single_object": Scene("single_object", (ObjectSpec("circle", size="large", position="top left"),)),
    "colors": Scene("colors", (ObjectSpec("circle", "red"),)),
    "counting": Scene("counting", (ObjectSpec("square", "blue"),), count=3),
    "two_object": Scene("two_object", (ObjectSpec("circle"), ObjectSpec("star"))),
    "color_attr": Scene("color_attr", (ObjectSpec("circle", "red"), ObjectSpec("star", "blue"))),
    "position": Scene("position", (ObjectSpec("circle", "red"), ObjectSpec("star", "blue")), relation="left of"),
}


def _nearest_form(text: str) -> str:
    """The known template closest to `text` once its vocabulary words are replaced by slot names."""
    abstract = text
    for name in ("position", "relation", "rel", "shapes", "shape", "colour", "size", "count"):
        for word in sorted(_VOCAB[name], key=len, reverse=True):
            abstract = re.sub(rf"\b{re.escape(word)}\b", "{" + name + "}", abstract)
    abstract = re.sub(r"\ban?\b", "{art}", abstract)
    forms = [t.replace("{art2}", "{art}").replace("{colour2}", "{colour}").replace("{shape2}", "{shape}")
             for _, t, _ in _compiled()]  # fmt: skip
    best = max(range(len(forms)), key=lambda i: difflib.SequenceMatcher(None, abstract, forms[i]).ratio())
    category, template, _ = _compiled()[best]
    return _fill(template, _slots(_EXAMPLES[category]))


def parse_caption(text: str) -> Scene:
    """Caption -> Scene (seed 0); MusebenchError naming the text and the nearest known form."""
    if not isinstance(text, str):
        raise MusebenchError(f"caption must be a string, got {type(text).__name__}: {text!r}")
    norm = _normalise(text)
    for category, _, regex in _compiled():
        m = regex.fullmatch(norm)
        if m:
            try:
                return _scene_from_match(category, {k: v for k, v in m.groupdict().items() if v is not None})
            except MusebenchError as exc:
                raise MusebenchError(f"caption '{text}' names an impossible scene: {exc}") from None
    form = _nearest_form(norm)
    raise MusebenchError(
        f"cannot parse shapes caption '{text}'; nearest known form: '{form}' "
        f"(shapes: {'/'.join(SHAPES)}; colours: {'/'.join(COLOURS)}; sizes: small/large)"
    )


def roundtrip_target(scene: Scene) -> Scene:
    """What `parse_caption(caption(scene, v))` returns: the scene with the layout seed reset to 0."""
    return replace(scene, seed=0)
