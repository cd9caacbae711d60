"""Bad image files for every command that reads a user's images (`metrics`, `shapes score`,
`reference`): each refused by musebench.imageio in one line naming the file (issue 23: a
decompression bomb was a traceback). 16-bit, palette, alpha and CMYK images are not here: they are
read by the module's rule (tests/test_image_modes.py)."""

from __future__ import annotations

import numpy as np

from bad_inputs.case import Case
from bad_inputs.image_bytes import bomb_png, pil_bytes, rgb_jpeg, rgb_png, tiff_bytes, truncated_jpeg, truncated_png

# a shapes-world prompt (musebench shapes render --split val --n 1), for `shapes score` folders
PROMPT_LINE = ('{"file": "00000.png", "index": 0, "prompt": "a large triangle in the bottom right", "tag": "single_object", '
               '"source": "shapes:val", "scene": {"category": "single_object", "objects": [{"shape": "triangle", '
               '"colour": null, "size": "large", "position": "bottom right"}], "count": 1, "relation": null, '
               '"seed": 1016164991}}\n')
BOMB = "pixel limit (a possible decompression bomb"


def _jpeg_named_png() -> bytes:
    return rgb_jpeg()


def _lab_tiff() -> bytes:
    from PIL import Image

    return pil_bytes(Image.new("LAB", (8, 8), (50, 0, 0)), "TIFF")


BAD_FILES = {  # name -> (content, the words of its error)
    "bomb": ("bomb.png", lambda: bomb_png(100_000, 100_000), f"bomb.png: 10,000,000,000 pixels, over the 67,108,864 {BOMB}"),
    "bomb_under_pillow_limit": ("big.png", lambda: bomb_png(8200, 8200), f"big.png: 8200x8200 = 67,240,000 pixels, over the 67,108,864 {BOMB}"),
    "truncated_png": ("cut.png", truncated_png, "cut.png: truncated or corrupt image data"),
    "truncated_jpeg": ("cut.jpg", truncated_jpeg, "cut.jpg: truncated or corrupt image data"),
    "empty_file": ("empty.png", lambda: b"", "empty.png: empty file (0 bytes)"),
    "text_as_png": ("notes.png", lambda: b"just some text, not pixels\n", "notes.png: not a readable image"),
    "jpeg_named_png": ("photo.png", _jpeg_named_png, "photo.png: the file holds a JPEG image but is named .png; rename it to photo.jpg"),
    "float_0_255": ("f.tif", lambda: tiff_bytes(np.full((8, 8), 200.0, np.float32)), "f.tif: float image with values in [200, 200]"),
    "float_nan": ("n.tif", lambda: tiff_bytes(np.full((8, 8), np.nan, np.float32)), "n.tif: float image holds NaN"),
    "int32_negative": ("i.tif", lambda: tiff_bytes(np.full((8, 8), -3, np.int32)), "i.tif: 32-bit integer image with values in [-3, -3]"),
    "lab_mode": ("lab.tif", _lab_tiff, "lab.tif: image mode LAB is not read by musebench"),
}


def _metrics(name: str, content, expect: str) -> Case:
    """`musebench metrics fid A B` with the bad file among A's good images."""
    files = {"a/0.png": rgb_png, "a/1.png": rgb_png, f"a/{name}": content, "b/0.png": rgb_png, "b/1.png": rgb_png}
    return Case(argv=("metrics", "fid", "{tmp}/a", "{tmp}/b", "--extractor", "probe", "--allow-small-n"),
                expect=expect, files=files, tiny_registry=False)


def _score(content, expect: str) -> Case:
    """`musebench shapes score DIR` where DIR/prompts.jsonl lists the bad file as 00000.png."""
    return Case(argv=("shapes", "score", "{tmp}/g"), expect=expect,
                files={"g/prompts.jsonl": PROMPT_LINE, "g/00000.png": content}, tiny_registry=False)


def _reference(name: str, content, expect: str) -> Case:
    """`musebench reference SRC --out DST`: refused before DST is created."""
    return Case(argv=("reference", "{tmp}/src", "--out", "{tmp}/ref", "--size", "16"), expect=expect,
                files={"src/a.jpg": rgb_jpeg, f"src/{name}": content}, tiny_registry=False)


def _coco_run(name: str, content, expect: str) -> Case:
    """`musebench run` of a suite whose `real` model reads COCO reference images: refused at model load."""
    captions = ('{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "NAME"}], "annotations": '
                '[{"id": 1, "image_id": 1, "caption": "a cat"}, {"id": 2, "image_id": 2, "caption": "a dog"}]}')
    suite = ("version: 1\nname: coco_real\nseed: 0\nmodels:\n  real: {adapter: real}\n"
             "prompts: {source: coco, path: cap.json, images_dir: img}\nmetrics:\n  pixel_mean: {}\n")
    return Case(argv=("run", "{tmp}/coco.yaml", "--out", "{tmp}/run"), expect=expect,
                files={"coco.yaml": suite, "cap.json": captions.replace("NAME", name), "img/a.jpg": rgb_jpeg, f"img/{name}": content})


CASES: dict[str, Case] = {
    **{f"metrics_{key}": _metrics(name, content, expect) for key, (name, content, expect) in BAD_FILES.items()},
    "score_bomb": _score(BAD_FILES["bomb"][1], f"00000.png: 10,000,000,000 pixels, over the 67,108,864 {BOMB}"),
    "score_truncated": _score(truncated_png, "00000.png: truncated or corrupt image data"),
    "score_text": _score(lambda: b"GIF89a but not really", "00000.png: not a readable image"),
    "score_jpeg_named_png": _score(_jpeg_named_png, "00000.png: the file holds a JPEG image but is named .png"),
    "reference_bomb": _reference("z.png", BAD_FILES["bomb"][1], f"z.png: 10,000,000,000 pixels, over the 67,108,864 {BOMB}"),
    "reference_truncated_first": _reference("0.png", truncated_png, "0.png: truncated or corrupt image data"),
    "reference_empty": _reference("e.jpg", lambda: b"", "e.jpg: empty file (0 bytes)"),
    "run_coco_reference_bomb": _coco_run("b.png", lambda: bomb_png(20_000, 20_000),
                                         f"adapter real: cannot read reference image: img/b.png: 400,000,000 pixels, over the 67,108,864 {BOMB}"),
    "run_coco_reference_png_named_jpg": _coco_run("b.jpg", rgb_png, "b.jpg: the file holds a PNG image but is named .jpg; rename it to b.png"),
    "run_coco_reference_empty": _coco_run("b.jpg", lambda: b"", "b.jpg: empty file (0 bytes)"),
    "reference_misnamed": _reference("p.png", _jpeg_named_png, "p.png: the file holds a JPEG image but is named .png"),
}
