"""The shapes world: captioned procedural scenes with an exact attribute oracle (see docs/shapes.md).

The embedded default data set of musebench: the reference models train on `ShapesDataset`, suites
draw prompts with `sample_prompts`, and the oracle metric scores images with `score_image`.
"""

from musebench.shapes.captions import caption, parse_caption
from musebench.shapes.geneval import export_geneval_jsonl
from musebench.shapes.oracle import ATTRIBUTES, OracleResult, score_image
from musebench.shapes.render import render
from musebench.shapes.scene import ObjectSpec, Scene, scene_from_dict, scene_to_dict
from musebench.shapes.splits import SPLITS, sample_prompts, sample_scene
from musebench.shapes.vocab import CATEGORIES, DEFAULT_SIZE



def __getattr__(name: str):
    """ShapesDataset (a torch Dataset, for the training recipes) is imported on first use: the
    oracle and the prompt sources need only numpy, and a suite is read without torch's import."""
    if name == "ShapesDataset":
        from musebench.shapes.dataset import ShapesDataset

        return ShapesDataset
    raise AttributeError(f"module 'musebench.shapes' has no attribute {name!r}")


__all__ = [
    "ATTRIBUTES",
    "OracleResult",
    "score_image",
    "CATEGORIES",
    "DEFAULT_SIZE",
    "SPLITS",
    "ObjectSpec",
    "Scene",
    "ShapesDataset",
    "caption",
    "export_geneval_jsonl",
    "parse_caption",
    "render",
    "sample_prompts",
    "sample_scene",
    "scene_from_dict",
    "scene_to_dict",
]
