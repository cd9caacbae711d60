"""A fake COCO 2014 folder for the preflight tests: the layout suites/coco_fid.yaml reads, with
tiny images and enough captions for the FID-30K selection."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image


def make_fake_coco(root: Path, n_images: int = 40, captions_per_image: int = 750, size: int = 16) -> Path:
    """root/annotations/captions_val2014.json, root/val2014/*.jpg, root/val2014_256/*.png."""
    (root / "annotations").mkdir(parents=True)
    (root / "val2014").mkdir()
    (root / "val2014_256").mkdir()
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for i in range(n_images):
        name = f"COCO_val2014_{i:012d}.jpg"
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "val2014" / name)
        Image.fromarray(pixels).resize((256, 256)).save(root / "val2014_256" / name.replace(".jpg", ".png"))
        images.append({"id": i, "file_name": name, "coco_url": f"http://images.cocodataset.org/val2014/{name}"})
        annotations += [{"id": i * captions_per_image + j, "image_id": i, "caption": f"photo {i} number {j}"}
                        for j in range(captions_per_image)]
    (root / "annotations" / "captions_val2014.json").write_text(
        json.dumps({"info": {}, "images": images, "licenses": [], "annotations": annotations}))
    return root
