"""Reference images for FID/KID: shapes renders are memoised, and the memo returns exactly the renders."""

from __future__ import annotations

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.metrics.reference import normalise_spec, reference_images
from musebench.shapes import render, sample_prompts, scene_from_dict


def test_shapes_reference_is_the_renders_and_is_memoised_across_sweep_points():
    spec = normalise_spec({"source": "shapes", "split": "test", "n": 5, "seed": 3}, "fid")
    first, description = reference_images(spec, 32)
    second, _ = reference_images(spec, 32)
    assert second is first  # a sweep's second point does not re-render
    assert description == "shapes:test n=5 size=32 seed=3"
    records = sample_prompts("test", 5, 3)
    expected = np.stack([render(scene_from_dict(r.scene), 32).transpose(2, 0, 1) for r in records])
    assert first.shape == (5, 3, 32, 32) and np.array_equal(first.numpy(), expected)
    other, _ = reference_images(normalise_spec({"source": "shapes", "split": "test", "n": 5, "seed": 4}, "fid"), 32)
    assert not np.array_equal(other.numpy(), first.numpy())


def test_reference_spec_errors_name_the_key_and_the_fix():
    with pytest.raises(MusebenchError, match=r"fid.reference: unknown key\(s\) colour for source shapes; allowed: source, split, n, size, seed"):
        normalise_spec({"source": "shapes", "colour": 1}, "fid")
    with pytest.raises(MusebenchError, match="needs source: shapes | npz | folder"):
        normalise_spec({"path": "x"}, "fid")
