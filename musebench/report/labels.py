"""Human names for metric keys, one home for every figure's axis, title and caption (issue 22 item 4:
no raw keys on axes, units named, one CLIP-score convention named on every page).

`name(metric, variant)` is the short form for titles and captions ("FID, probe features");
`axis(metric, variant, higher)` adds the unit and the better direction ("latency at batch 1 (ms per
image) ↓"). CLIP score carries its convention (metrics/clip_score.py VARIANTS): torchmetrics is
100·cos, hessel 2.5·max(cos, 0), cosine the raw cosine; a figure whose rows mix conventions says so
instead of putting two scales under one name.
"""

from __future__ import annotations

import re

import pandas as pd

CLIP_SCALE = {"torchmetrics": "100·cos", "hessel": "2.5·max(cos, 0)", "cosine": "cos"}
FIXED = {  # metric -> (name, unit or "")
    "oracle/all_correct": ("oracle accuracy", "fraction of images"),
    "latency/ms_per_image_b1": ("latency at batch 1", "ms per image"),
    "latency/images_per_s": ("throughput", "images per s"),
    "latency/ratio": ("latency over the reference decode", "ratio"),
}
FEATURES = {"probe": "probe features", "inception": "Inception-v3 features", "clip": "CLIP features",
            "dinov2": "DINOv2 features", "random-vgg": "random-VGG features"}


BATCH_LATENCY = re.compile(r"latency/ms_per_image_b(\d+)")  # metrics/latency.py batch_metric


def name(metric: str, variant: str | None = None) -> str:
    if metric in FIXED:
        return FIXED[metric][0]
    if batch := BATCH_LATENCY.fullmatch(metric):
        return f"latency at batch {batch.group(1)}"
    prefix, _, rest = metric.partition("/")
    if prefix == "oracle":
        kind, _, detail = rest.partition("/")
        if kind == "attribute":
            return f"{detail.replace('_', ' ')} correct"
        return f"oracle accuracy, {rest.replace('_', ' ')} prompts"
    if prefix in ("fid", "kid", "cmmd"):
        return f"{prefix.upper()}, {FEATURES.get(rest, rest.replace('_', ' ') + ' features')}"
    if prefix == "clip_score":
        scale = CLIP_SCALE.get(variant or "", "conventions differ" if variant == "mixed" else "100·cos")
        return f"CLIP score, {rest.replace('_', ' ')} model ({scale})"
    return metric.replace("_", " ").replace("/", ": ")


def axis(metric: str, variant: str | None = None, higher: bool | None = None) -> str:
    unit = (FIXED[metric][1] if metric in FIXED else "ms per image" if BATCH_LATENCY.fullmatch(metric)
            else "fraction of images" if metric.startswith("oracle/") else "")
    arrow = "" if higher is None else " ↑" if higher else " ↓"
    return f"{name(metric, variant)}{f' ({unit})' if unit else ''}{arrow}"


def variant_of(df: pd.DataFrame, metric: str) -> str | None:
    """The convention of `metric`'s rows in df: one value, None (none recorded) or "mixed"."""
    if "variant" not in df.columns:
        return None
    found = set(df.loc[df["metric"] == metric, "variant"].dropna())
    return None if not found else found.pop() if len(found) == 1 else "mixed"
