"""COCO captions loader and FID-30K selections on the real caption files in ../shared/data/coco."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from musebench.errors import MusebenchError
from musebench.prompts.coco import check_references, load_coco_captions, select_captions

FULL_2017 = "captions_val2017_official_full.json"
EXCERPT_2014 = "captions_val2014_excerpt_first50images.json"
EDGE_2017 = "captions_val2017_excerpt_50images_edgecases.json"


def heim_instances(path: Path) -> list[str]:
    """HEIM's mscoco_scenario written out independently: images order, then each image's captions."""
    metadata = json.loads(path.read_text(encoding="utf-8"))
    captions = defaultdict(list)
    for annotation in metadata["annotations"]:
        captions[annotation["image_id"]].append(annotation["caption"])
    return [c.rstrip() for image in metadata["images"] for c in captions[image["id"]]]


def heim_choice(instances: list[str], n: int) -> list[str]:
    """HEIM's literal `np.random.seed(0); np.random.choice(instances, n, replace=False)`."""
    state = np.random.get_state()
    try:
        np.random.seed(0)
        return [str(x) for x in np.random.choice(instances, n, replace=False)]
    finally:
        np.random.set_state(state)


def test_val2017_full_counts_and_text(shared_data: Path) -> None:
    records = load_coco_captions(shared_data / "coco" / FULL_2017)
    assert len(records) == 25014
    assert {r.source for r in records} == {"coco:val2017"}
    assert len({r.meta["image_id"] for r in records}) == 5000
    per_image = Counter(Counter(r.meta["image_id"] for r in records).values())
    assert per_image == {5: 4987, 6: 12, 7: 1}
    assert [r.index for r in records] == list(range(25014))
    # HEIM's caption.rstrip(): no trailing whitespace or newline is left; leading spaces stay
    assert not any(r.prompt != r.prompt.rstrip() for r in records)
    assert sum(r.prompt != r.prompt.lstrip() for r in records) == 53
    assert records[0].prompt == "A man is in a kitchen making pizzas."
    assert records[0].meta == {"image_id": 397133, "annotation_id": 370509, "file_name": "000000397133.jpg"}
    assert [r.prompt for r in records] == heim_instances(shared_data / "coco" / FULL_2017)


def test_unsorted_annotations_grouped_by_image_in_file_order(shared_data: Path) -> None:
    path = shared_data / "coco" / FULL_2017
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = [a["id"] for a in data["annotations"]]
    assert ids != sorted(ids)  # the trap: annotations are not sorted
    records = load_coco_captions(path)
    image_order = [i["id"] for i in data["images"]]
    seen = list(dict.fromkeys(r.meta["image_id"] for r in records))
    assert seen == image_order
    newline = [a for a in data["annotations"] if a["caption"].endswith("\n")]
    assert len(newline) > 0
    record = next(r for r in records if r.meta["annotation_id"] == newline[0]["id"])
    assert record.prompt == newline[0]["caption"].rstrip()


def test_val2014_layout_and_references(shared_data: Path, tmp_path: Path) -> None:
    images_dir = tmp_path / "val2014"
    images_dir.mkdir()
    records = load_coco_captions(shared_data / "coco" / EXCERPT_2014, images_dir=images_dir)
    assert len(records) == 250 and {r.source for r in records} == {"coco:val2014"}
    assert records[0].reference == str(images_dir / "COCO_val2014_000000318219.jpg")
    with pytest.raises(MusebenchError, match=r"250 of 250 COCO reference images are missing, e\.g\. .*COCO_val2014_000000318219\.jpg"):
        check_references(records)
    for name in {r.meta["file_name"] for r in records}:
        (images_dir / name).write_bytes(b"")
    check_references(records)
    assert all(r.reference is None for r in load_coco_captions(shared_data / "coco" / EXCERPT_2014))


def test_val2017_edge_cases(shared_data: Path) -> None:
    records = load_coco_captions(shared_data / "coco" / EDGE_2017)
    assert len(records) == 264
    assert any('"selfie"' in r.prompt for r in records)
    assert not any(r.prompt.endswith(("\n", " ")) for r in records)
    assert max(Counter(r.meta["image_id"] for r in records).values()) == 7


def test_heim_selection_matches_literal_recipe(shared_data: Path) -> None:
    """Same captions, same order as HEIM's global-seed draw, without touching the global RNG."""
    path = shared_data / "coco" / FULL_2017
    records = load_coco_captions(path)
    before = np.random.get_state()[1].copy()
    chosen = select_captions(records, "heim", n=20000, seed=0)
    assert np.array_equal(np.random.get_state()[1], before)
    assert [r.prompt for r in chosen] == heim_choice(heim_instances(path), 20000)
    assert len({r.index for r in chosen}) == 20000  # without replacement
    assert [r.index for r in select_captions(records, "heim", n=20000)] == [r.index for r in chosen]
    assert [r.index for r in select_captions(records, "heim", n=100, seed=1)] != [r.index for r in chosen[:100]]


def test_per_image_selection_has_distinct_images(shared_data: Path) -> None:
    records = load_coco_captions(shared_data / "coco" / FULL_2017)
    chosen = select_captions(records, "per_image", n=4000, seed=0)
    assert len(chosen) == 4000 and len({r.meta["image_id"] for r in chosen}) == 4000
    again = select_captions(records, "per_image", n=4000, seed=0)
    assert [r.index for r in again] == [r.index for r in chosen]
    heim = select_captions(records, "heim", n=4000, seed=0)
    assert len({r.meta["image_id"] for r in heim}) < 4000  # HEIM repeats images: the documented difference


def test_selection_errors(shared_data: Path) -> None:
    records = load_coco_captions(shared_data / "coco" / EXCERPT_2014)
    with pytest.raises(MusebenchError, match=r"n=30000 captions but the file has 250"):
        select_captions(records, "heim")
    with pytest.raises(MusebenchError, match=r"n=60 images but the file has 50"):
        select_captions(records, "per_image", n=60)
    with pytest.raises(MusebenchError, match=r"unknown COCO caption selection 'random'; use one of all, heim, per_image"):
        select_captions(records, "random", n=5)
    assert len(select_captions(records, "all")) == 250


def test_bad_coco_files(tmp_path: Path) -> None:
    path = tmp_path / "captions_val2014.json"
    with pytest.raises(MusebenchError, match=r"captions_val2014\.json: file not found"):
        load_coco_captions(path)
    path.write_text('{"images": [], "annotations": [}', encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"captions_val2014\.json:1: bad JSON"):
        load_coco_captions(path)
    path.write_text('{"info": {}}', encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"not a COCO captions file \(needs 'images' and 'annotations' lists\)"):
        load_coco_captions(path)
    path.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": []}), encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"no captions"):
        load_coco_captions(path)
    bad = {"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"id": 5, "image_id": 2, "caption": "x"}]}
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"annotations\[0\] \(id 5\) refers to image_id 2"):
        load_coco_captions(path)
    with pytest.raises(MusebenchError, match=r"COCO images dir .* is not a directory"):
        load_coco_captions(path, images_dir=tmp_path / "absent")
