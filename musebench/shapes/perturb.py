"""Perturbed captions: the same scene asked for in words the models never read in training.

Issue 25 measures whether a model's confidence stays calibrated out of distribution. The hold-out
split (holdout.py) is one kind of shift: unseen attribute combinations. Perturbations are the other:
the scene, and so the oracle's expected answer, is unchanged; only its caption is rewritten.

Kinds (PERTURBATIONS):
- `unseen_words`: every colour, shape, size, position, count and relation word replaced by a synonym
  that no training caption uses (SYNONYMS: "crimson" for red, "disc" for circle, digits for count
  words, "upper left" for top left, ...), in the category's template (record.index modulo its count).
- `reordered`: the same requirements in another clause order: two objects swapped ("a blue star and
  a red circle"), a relation stated from the other object ("a blue star to the right of a red
  circle" for "a red circle to the left of a blue star"), the attribute after its noun.
- `longer`: the caption followed by a clause that adds no requirement (", on a plain dark
  background"); the longest filler that keeps the caption within LONGER_WORD_BUDGET words, because
  the shipped text encoder reads 16 tokens ([CLS] and [SEP] included) and the requirements must stay
  readable. The requirements come first, so truncation can only ever cut filler.
- `mixed`: item i gets PERTURBATIONS[(i // 6) % 3], so each of the six balanced categories of val
  (category = i % 6) sees every kind equally often.

A perturbed record keeps its scene, tag and index; its source gains "~<kind>" ("shapes:val~reordered")
and `meta["perturbation"]` names the kind, so results can be broken down by it.
"""

from __future__ import annotations

from dataclasses import replace

from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord
from musebench.shapes.captions import RELATION_PHRASES, TEMPLATES, fill_template, scene_slots
from musebench.shapes.scene import scene_from_dict

PERTURBATIONS = ("unseen_words", "reordered", "longer")
PERTURB_CHOICES = (*PERTURBATIONS, "mixed")

# slot value -> a synonym absent from every training caption (tests/test_shapes_perturb.py checks it)
SYNONYMS: dict[str, str] = {
    "red": "crimson", "orange": "amber", "yellow": "golden", "green": "emerald",
    "cyan": "turquoise", "blue": "cobalt", "purple": "violet", "white": "ivory",
    "circle": "disc", "square": "block", "triangle": "wedge", "star": "pentagram", "cross": "plus sign",
    "circles": "discs", "squares": "blocks", "triangles": "wedges", "stars": "pentagrams", "crosses": "plus signs",
    "small": "tiny", "large": "big",
    "two": "2", "three": "3", "four": "4",
    "top left": "upper left", "top middle": "upper centre", "top right": "upper right",
    "middle left": "centre left", "center": "centre", "middle right": "centre right",
    "bottom left": "lower left", "bottom middle": "lower centre", "bottom right": "lower right",
    "to the left of": "leftward of", "to the right of": "rightward of", "above": "higher than", "below": "lower than",
    "left of": "leftward of", "right of": "rightward of",
}  # fmt: skip

REORDERED: dict[str, str] = {
    "single_object": "in the {position} there is {art} {size} {shape}",
    "colors": "{art} {shape} coloured {colour}",
    "counting": "{shapes} in {colour}, {count} of them",
    "two_object": "{art2} {shape2} and {art} {shape}",
    "color_attr": "{art2} {colour2} {shape2} and {art} {colour} {shape}",
    "position": "{art2} {colour2} {shape2} {converse} {art} {colour} {shape}",
}
CONVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}

FILLERS = (  # longest first: `longer` takes the first that fits the budget
    "on a plain dark background with nothing else",
    "on a plain dark background",
    "on a dark background",
    "drawn flat",
    "plainly",
)
LONGER_WORD_BUDGET = 13  # words; the shipped encoder reads 14 word pieces between [CLS] and [SEP]


def check_perturbation(kind: str | None) -> None:
    if kind is not None and kind not in PERTURB_CHOICES:
        raise MusebenchError(f"unknown perturbation '{kind}'; choose one of {', '.join(PERTURB_CHOICES)}")


def perturb_records(records: list[PromptRecord], kind: str) -> list[PromptRecord]:
    """Each record's caption rewritten by `kind` (a pure function of the record)."""
    check_perturbation(kind)
    return [perturb_record(r, mixed_kind(r.index) if kind == "mixed" else kind) for r in records]


def mixed_kind(index: int) -> str:
    """The kind `mixed` gives prompt `index`: each of val's six balanced categories sees every kind."""
    return PERTURBATIONS[(index // 6) % 3]


def perturb_record(record: PromptRecord, kind: str) -> PromptRecord:
    if record.scene is None:
        raise MusebenchError(f"prompt {record.index} of '{record.source}' has no shapes scene to perturb a caption of")
    scene = scene_from_dict(record.scene)
    if kind == "unseen_words":
        templates = TEMPLATES[scene.category]
        slots = {k: SYNONYMS.get(v, v) for k, v in scene_slots(scene).items()}
        text = fill_template(templates[record.index % len(templates)], slots)
    elif kind == "reordered":
        slots = scene_slots(scene)
        if scene.relation:
            slots["converse"] = RELATION_PHRASES[CONVERSE[scene.relation]]
        text = fill_template(REORDERED[scene.category], slots)
    else:
        text = longer(record.prompt)
    meta = {**(record.meta or {}), "perturbation": kind}
    return replace(record, prompt=text, source=f"{record.source}~{kind}", meta=meta)


def longer(text: str) -> str:
    words = len(text.split())
    filler = next((f for f in FILLERS if words + len(f.split()) <= LONGER_WORD_BUDGET), FILLERS[-1])
    return f"{text}, {filler}"

