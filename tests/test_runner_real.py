"""The `real` adapter (the ceiling) and the shapes prompt source it usually reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from musebench.errors import MusebenchError
from musebench.models.real import RealAdapter
from musebench.prompts.base import PromptRecord
from musebench.prompts.shapes_source import load_shapes
from musebench.shapes import render, sample_prompts, scene_from_dict


def test_shapes_source_wraps_sample_prompts():
    records = load_shapes("val", 5, 3)
    assert records == sample_prompts("val", 5, 3) and all(r.scene is not None for r in records)


def test_real_renders_each_records_own_scene():
    records = load_shapes("val", 4, 0)
    images = RealAdapter().images_for_records(records, {"size": 32})  # (4, 3, 32, 32)
    assert images.dtype == torch.uint8 and images.shape == (4, 3, 32, 32)
    for rec, image in zip(records, images):
        assert np.array_equal(image.permute(1, 2, 0).numpy(), render(scene_from_dict(rec.scene), 32))
    assert RealAdapter().images_for_records(records, {"size": 64}).shape == (4, 3, 64, 64)


def test_real_from_text_follows_the_caption():
    from musebench.shapes import parse_caption

    prompts = [r.prompt for r in load_shapes("val", 3, 1)]
    images = RealAdapter().generate(prompts, [0, 1, 2], {"size": 32})
    expected = [render(parse_caption(p), 32) for p in prompts]
    assert all(np.array_equal(i.permute(1, 2, 0).numpy(), e) for i, e in zip(images, expected))


def test_real_reads_reference_images_centre_cropped(tmp_path):
    array = np.zeros((40, 80, 3), dtype=np.uint8)  # wide: the centre 40x40 is white, the sides black
    array[:, 20:60] = 255
    Image.fromarray(array).save(tmp_path / "ref.png")
    rec = PromptRecord(prompt="a photo", source="coco:val2014", index=0, reference=str(tmp_path / "ref.png"))
    image = RealAdapter().images_for_records([rec], {"size": 16})
    assert image.shape == (1, 3, 16, 16) and int(image.min()) == 255


def test_real_rejects_prompts_without_images_and_checkpoints(tmp_path):
    rec = PromptRecord(prompt="a photo", source="file:p.txt", index=3)
    with pytest.raises(MusebenchError, match="prompt 3 of 'file:p.txt' has no image of its own"):
        RealAdapter().check_records([rec])
    with pytest.raises(MusebenchError, match="adapter real takes no checkpoint"):
        RealAdapter.from_spec("muse-shapes", "cpu")
    missing = PromptRecord(prompt="x", source="coco:val", index=0, reference=str(tmp_path / "nope.jpg"))
    with pytest.raises(MusebenchError, match="cannot read reference image"):
        RealAdapter().images_for_records([missing], {"size": 16})
