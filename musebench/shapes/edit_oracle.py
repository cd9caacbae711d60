"""The edit oracle: did an edit do what was asked (success) and leave everything else alone (preservation)?

Objects are read back with segment.find_blobs, as the scene oracle does, and matched to the expected
placements (edits.EditPair) by centroid: a blob belongs to an expected object when its centroid is
within MATCH_DISTANCE of it. Objects are laid out at least 0.26 of the side apart (two small objects'
extents + layout.GAP), so a match is never ambiguous.

    success    recolor: a blob at the object's place has its shape and the new colour
               remove:  no blob within the removed object's extent + MATCH_DISTANCE, and no blob of its
                        shape and colour anywhere
               add:     a blob of the new shape and colour, `relation` of the kept object's expected
                        place by GenEval's rule (oracle.relation_holds)
    preserved  every kept object is matched by exactly one blob of the same shape, colour and size,
               and no blob lies outside every expected place (nothing added or split off); the edited
               object's own place is success's business
    pixels     fraction of pixels outside the edit region whose largest channel change from the
               source exceeds PIXEL_TOLERANCE (a separate, stated measure; Muse re-decodes every token
               through the VQ decoder, so its no-edit floor is the VQ round trip, reported beside it)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from musebench.shapes.edits import EditPair, extent, size_name
from musebench.shapes.layout import Placed
from musebench.shapes.oracle import as_hwc_uint8, relation_holds
from musebench.shapes.segment import Blob, find_blobs

MATCH_DISTANCE = 0.1  # fraction of the side (3.2 px at 32 px): a blob this close to an expected centroid is that object
PIXEL_TOLERANCE = 32  # uint8 levels: a pixel outside the region "changed" when some channel moved by more


@dataclass(frozen=True)
class EditVerdict:
    success: bool
    preserved: bool
    n_objects: int  # blobs the oracle saw


def _near(blob: Blob, obj: Placed, radius: float = MATCH_DISTANCE) -> bool:
    return math.dist((blob.cx, blob.cy), (obj.cx, obj.cy)) <= radius


def _as_blob(obj: Placed) -> Blob:
    """The expected object as the oracle would read it (box = circumcircle's), for relation_holds."""
    e = extent(obj)
    return Blob(obj.colour, obj.shape, size_name(obj), "center", obj.cx, obj.cy, 2 * e, 2 * e, 0.0, 0.0)


def _same(blob: Blob, obj: Placed) -> bool:
    return (blob.shape, blob.colour, blob.size) == (obj.shape, obj.colour, size_name(obj))


def edit_success(blobs: list[Blob], pair: EditPair) -> bool:
    if pair.edit_type == "recolor":
        return any(_near(b, pair.after) and (b.shape, b.colour) == (pair.after.shape, pair.after.colour) for b in blobs)
    if pair.edit_type == "remove":
        gone = pair.before
        return not any(_near(b, gone, extent(gone) + MATCH_DISTANCE) or (b.shape, b.colour) == (gone.shape, gone.colour)
                       for b in blobs)
    new = [b for b in blobs if (b.shape, b.colour) == (pair.after.shape, pair.after.colour)]
    return any(relation_holds(pair.relation, b, _as_blob(pair.kept[0])) for b in new)


def preserved(blobs: list[Blob], pair: EditPair) -> bool:
    for obj in pair.kept:
        near = [b for b in blobs if _near(b, obj)]
        if len(near) != 1 or not _same(near[0], obj):
            return False
    places = [(o, MATCH_DISTANCE) for o in pair.target] + ([(pair.before, extent(pair.before) + MATCH_DISTANCE)] if pair.before else [])
    return all(any(_near(b, o, r) for o, r in places) for b in blobs)


def score_edit(image, pair: EditPair) -> EditVerdict:
    """Check an edited image (uint8 numpy (H, W, 3) or torch (3, H, W)) against the pair's expected result."""
    blobs = find_blobs(as_hwc_uint8(image))
    return EditVerdict(edit_success(blobs, pair), preserved(blobs, pair), len(blobs))


def changed_outside(image, source, region: np.ndarray, tolerance: int = PIXEL_TOLERANCE) -> float:
    """Fraction of pixels outside `region` (bool (H, W)) whose largest channel differs from `source` by more than tolerance."""
    a = as_hwc_uint8(image).astype(np.int16)
    b = as_hwc_uint8(source).astype(np.int16)
    moved = np.abs(a - b).max(axis=2) > tolerance  # (H, W)
    outside = ~region
    return float(moved[outside].mean()) if outside.any() else 0.0
