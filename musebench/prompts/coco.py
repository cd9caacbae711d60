"""COCO captions (captions_val2014.json / captions_val2017.json) as prompts, and FID-30K selections.

`load_coco_captions(captions_json, images_dir=None)` returns one PromptRecord per caption, in the
order HEIM builds its instances (stanford-crfm/helm, scenarios/image_generation/mscoco_scenario.py):
images in the order of the file's `images` list, and each image's captions in the order of the
(unsorted) `annotations` list. The caption text is `caption.rstrip()` exactly as HEIM does: 3,541
val2017 captions end in spaces or a newline; the 53 with a leading space and the one with an inner
newline are kept as they are, so a selection matches HEIM's prompt strings byte for byte.
`reference` is `images_dir / file_name` when `images_dir` is given (the real image, for FID's
reference set), and `meta` holds `image_id`, `annotation_id` and `file_name`.

Both layouts load: val2014 (key order info, images, licenses, annotations; file names
`COCO_val2014_000000318219.jpg`) and val2017 (info, licenses, images, annotations; `000000397133.jpg`).
`source` is `coco:<split>`, the split read from the images' `coco_url` (`.../val2014/...`).

Selections for FID-30K (`select_captions`, `SELECTIONS`):
- "heim": one instance per caption, then `np.random.seed(0); np.random.choice(instances, 30000,
  replace=False)` (HEIM, Lee et al. 2023). Here a local `np.random.RandomState(seed)` draws the
  same indices without touching the global RNG (choice without replacement = permutation[:n]).
  Images with several chosen captions repeat in the reference set.
- "per_image" (our alternative): one caption per image, then n images without replacement, both
  drawn with RandomState(seed): every generation has its own real image, so the reference set is
  n distinct images with no repeats (HEIM's repeats weight some gold images twice). Use it when
  the reference statistics are computed from the chosen images themselves; papers that say only
  "30k random captions" leave this choice open, so a suite must name its selection.
- "all": every caption, in HEIM order.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np

from musebench.errors import MusebenchError
from musebench.prompts.base import PromptRecord
from musebench.prompts.files import check_encodable, parse_json, read_text

SELECTIONS = ("all", "heim", "per_image")
HEIM_N = 30000  # HEIM / Imagen / Muse "FID-30K"
HEIM_SEED = 0  # HEIM: np.random.seed(0)


def load_coco_captions(captions_json: str | Path, images_dir: str | Path | None = None) -> list[PromptRecord]:
    """Every caption of a COCO captions file as a PromptRecord, in HEIM order (see module doc)."""
    path = Path(captions_json)
    data = _read_json(path)
    images = _image_table(path, data)
    split = _split_name(path, data)
    root = _check_images_dir(path, images_dir)
    by_image = _captions_by_image(path, data, images)
    records: list[PromptRecord] = []
    for image_id, file_name in images.items():
        for annotation_id, caption in by_image.get(image_id, []):
            reference = str(root / file_name) if root is not None else None
            meta = {"image_id": image_id, "annotation_id": annotation_id, "file_name": file_name}
            records.append(
                PromptRecord(prompt=caption, source=f"coco:{split}", index=len(records), reference=reference, meta=meta)
            )
    if not records:
        raise MusebenchError(f"{path}: no captions in 'annotations'; give a COCO captions_*.json file")
    return records


def select_captions(records: list[PromptRecord], selection: str, n: int | None = None, seed: int = HEIM_SEED) -> list[PromptRecord]:
    """The FID caption selection named `selection` (one of SELECTIONS); n defaults to 30,000."""
    if selection not in SELECTIONS:
        raise MusebenchError(f"unknown COCO caption selection '{selection}'; use one of {', '.join(SELECTIONS)}")
    if selection == "all":
        return list(records) if n is None else _first(records, n)
    n = HEIM_N if n is None else n
    if selection == "heim":
        return select_heim(records, n, seed)
    return select_per_image(records, n, seed)


def select_heim(records: list[PromptRecord], n: int = HEIM_N, seed: int = HEIM_SEED) -> list[PromptRecord]:
    """HEIM's draw: `np.random.seed(seed); np.random.choice(instances, n, replace=False)`, locally seeded."""
    _check_n(records, n, "captions")
    chosen = np.random.RandomState(seed).choice(len(records), n, replace=False)  # (n,) indices, draw order
    return [records[int(i)] for i in chosen]


def select_per_image(records: list[PromptRecord], n: int = HEIM_N, seed: int = HEIM_SEED) -> list[PromptRecord]:
    """One caption per image (drawn), then n distinct images (drawn); both from RandomState(seed)."""
    groups: dict[object, list[PromptRecord]] = {}
    for record in records:
        groups.setdefault(_image_key(record), []).append(record)
    _check_n(list(groups), n, "images")
    rng = np.random.RandomState(seed)
    one_each = [group[int(rng.randint(len(group)))] for group in groups.values()]  # image order
    chosen = rng.choice(len(one_each), n, replace=False)  # (n,) indices into one_each
    return [one_each[int(i)] for i in chosen]


def _first(records: list[PromptRecord], n: int) -> list[PromptRecord]:
    _check_n(records, n, "captions")
    return list(records[:n])


def _check_n(items: list, n: int, what: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise MusebenchError(f"COCO selection size n must be a positive integer, got {n!r}")
    if n > len(items):
        raise MusebenchError(
            f"COCO selection asks for n={n} {what} but the file has {len(items)}; "
            "lower n or use captions_val2014.json (202,654 captions, 40,504 images)"
        )


def _image_key(record: PromptRecord) -> object:
    return record.meta["image_id"] if record.meta else record.reference


# COCO 2014 as distributed (annotations_trainval2014.zip, val2014.zip); suites/coco_fid.yaml reads ROOT
# from $MUSEBENCH_COCO_ROOT, so a missing file names both the layout and the variable.
EXPECTED_LAYOUT = (
    "expected COCO 2014's layout ROOT/annotations/captions_val2014.json with the images in ROOT/val2014/ "
    "(unzip annotations_trainval2014.zip and val2014.zip into ROOT; suites/coco_fid.yaml takes ROOT from $MUSEBENCH_COCO_ROOT)"
)


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise MusebenchError(f"{path}: file not found; {EXPECTED_LAYOUT}")
    data = parse_json(read_text(path), path, "re-download the COCO annotations")
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("annotations"), list):
        raise MusebenchError(
            f"{path}: not a COCO captions file (needs 'images' and 'annotations' lists); "
            "use annotations/captions_val2014.json from annotations_trainval2014.zip"
        )
    return data


def _image_table(path: Path, data: dict) -> dict[int, str]:
    """image id -> file_name, in the file's `images` order."""
    table: dict[int, str] = {}
    for position, image in enumerate(data["images"]):
        if not isinstance(image, dict) or not isinstance(image.get("id"), int) or not isinstance(image.get("file_name"), str):
            raise MusebenchError(f"{path}: images[{position}] needs an integer 'id' and a 'file_name'; fix or re-download the file")
        table[image["id"]] = image["file_name"]
    return table


def _captions_by_image(path: Path, data: dict, images: dict[int, str]) -> dict[int, list[tuple[int, str]]]:
    """image id -> [(annotation id, caption.rstrip())] in annotation-list order."""
    by_image: dict[int, list[tuple[int, str]]] = {}
    for position, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict) or not isinstance(ann.get("caption"), str) or not isinstance(ann.get("image_id"), int):
            raise MusebenchError(f"{path}: annotations[{position}] needs an integer 'image_id' and a 'caption' string; fix or re-download the file")
        if ann["image_id"] not in images:
            raise MusebenchError(
                f"{path}: annotations[{position}] (id {ann.get('id')}) refers to image_id {ann['image_id']} "
                "which is not in 'images'; the file is truncated or edited, re-download it"
            )
        caption = check_encodable(ann["caption"].rstrip(), f"{path}: annotations[{position}]")  # HEIM: caption.rstrip()
        if not caption:
            raise MusebenchError(f"{path}: annotations[{position}] (id {ann.get('id')}) has an empty caption; remove it")
        by_image.setdefault(ann["image_id"], []).append((ann.get("id"), caption))
    return by_image


def _split_name(path: Path, data: dict) -> str:
    """'val2014' / 'val2017' / ...: the coco_url folder, else the file-name prefix, else the json name."""
    first = data["images"][0] if data["images"] else {}
    url = first.get("coco_url")
    if isinstance(url, str) and url.count("/") >= 2:  # http://images.cocodataset.org/val2014/COCO_....jpg
        return PurePosixPath(url).parent.name
    name = first.get("file_name", "")
    if name.startswith("COCO_") and name.count("_") >= 2:  # COCO_val2014_000000318219.jpg
        return name.split("_")[1]
    if path.stem.startswith("captions_"):  # captions_val2017.json
        return path.stem.removeprefix("captions_").split("_")[0]
    return "coco"


def _check_images_dir(path: Path, images_dir: str | Path | None) -> Path | None:
    if images_dir is None:
        return None
    root = Path(images_dir)
    if not root.is_dir():
        raise MusebenchError(
            f"COCO images dir {root} (for {path.name}) is not a directory; unzip val2014.zip there "
            "so that it holds COCO_val2014_*.jpg, or leave the images dir out"
        )
    return root


def check_references(records: list[PromptRecord]) -> None:
    """Every chosen record's reference image exists; else one line naming the first missing file."""
    missing = [r.reference for r in records if r.reference is not None and not Path(r.reference).is_file()]
    if missing:
        raise MusebenchError(
            f"{len(missing)} of {len(records)} COCO reference images are missing, e.g. {missing[0]}; "
            "unzip the split's images (val2014.zip) into the images dir"
        )
