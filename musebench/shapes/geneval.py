"""Export prompt sets in GenEval's metadata form (geneval/prompts/evaluation_metadata.jsonl).

GenEval's lines look like {"tag": "color_attr", "include": [{"class": "car", "count": 1, "color":
"red"}, ...], "prompt": "a photo of a red car and a blue bench"}. For "a photo of a cat left of a
couch" the reference object comes first and the subject second with "position": ["left of", 0];
counting lines add "exclude": [{"class": "cat", "count": n + 1}] (exactly n). We write the same
keys (shape names stand in for COCO classes) plus "scene", our exact scene dict, which GenEval
ignores and `musebench shapes score` / the prompt file source read back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from musebench.cache.atomic import write_atomic_text
from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord
from musebench.shapes.scene import scene_from_dict


def geneval_line(record: PromptRecord) -> dict:
    """One GenEval metadata object for a shapes-world prompt record."""
    if record.scene is None:
        raise MusebenchError(f"prompt {record.index} of '{record.source}' has no shapes scene; GenEval export needs one")
    scene = scene_from_dict(record.scene)
    include = []
    for obj in scene.objects:
        entry: dict = {"class": obj.shape, "count": scene.count}
        if obj.colour is not None:
            entry["color"] = obj.colour
        include.append(entry)
    line = {"tag": scene.category, "include": include, "prompt": record.prompt, "scene": record.scene}
    if scene.relation is not None:  # subject second, pointing at the reference object (index 0)
        subject, reference = include
        line["include"] = [reference, {**subject, "position": [scene.relation, 0]}]
    if scene.category == "counting":
        line["exclude"] = [{"class": scene.objects[0].shape, "count": scene.count + 1}]
    return line


def export_geneval_jsonl(records: list[PromptRecord], path: str | os.PathLike) -> Path:
    """Write GenEval metadata JSONL atomically (temp file, then rename); returns the path."""
    path = Path(path)
    lines = [json.dumps(geneval_line(r), sort_keys=True) for r in records]
    return write_atomic_text(path, "".join(line + "\n" for line in lines))
