"""Shapes world benchmark: oracle accuracy per category at 32 and 64 px, fooling rates, throughput.

    python benchmarks/shapes_world.py            # writes benchmarks/results/shapes_world.json
    python benchmarks/shapes_world.py --n 600    # a quicker look

Accuracy: the oracle's all-correct rate on N fresh renders (split "test", seed 2026, never used by
the tests) at each resolution, per GenEval category (balanced, N/6 each), plus the hold-out split.
Fooling: all-correct rate when the image is uniform noise, a blank image (black, and the background
colour), or the render of a different scene of the same category (one whose requested attributes
differ; for two-object categories the unordered pair of objects must differ).
Soft renders: all-correct on the same renders Gaussian-blurred (sigma 0.7 and 1.0 px) with
Gaussian noise (std 4): how much a model's softer output may deviate before the oracle objects.
Throughput: images/s of `render` alone (scenes drawn beforehand), of `ShapesDataset` items (scene
sampling + caption + render), and of `score_image`, in this one process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import ndimage

from musebench.shapes import CATEGORIES, ShapesDataset, render, sample_prompts, scene_from_dict, score_image
from musebench.shapes.scene import Scene, requested_key
from musebench.shapes.splits import sample_scene
from musebench.shapes.vocab import BACKGROUND

OUT = Path(__file__).resolve().parent / "results" / "shapes_world.json"
SEED = 2026
SOFT_SIGMAS = (0.7, 1.0)  # px


def different_scene(scene: Scene, rng: np.random.Generator) -> Scene:
    while True:
        other = sample_scene("test", rng, tag=scene.category)
        if requested_key(other) != requested_key(scene):
            return other


def soften(img: np.ndarray, sigma: float, noise: float, rng: np.random.Generator) -> np.ndarray:
    soft = ndimage.gaussian_filter(img.astype(np.float32), (sigma, sigma, 0)) + rng.normal(0, noise, img.shape)
    return np.clip(np.round(soft), 0, 255).astype(np.uint8)


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits)


def accuracy_and_fooling(n: int, size: int) -> dict:
    recs = sample_prompts("test", n, SEED)
    rng = np.random.default_rng([SEED, size])
    right: dict[str, list[bool]] = defaultdict(list)
    fooled: dict[str, list[bool]] = defaultdict(list)
    fooled_by_cat: dict[str, list[bool]] = defaultdict(list)
    blank_bg = np.broadcast_to(np.array(BACKGROUND, np.uint8), (size, size, 3)).copy()
    soft: dict[str, list[bool]] = defaultdict(list)
    for r in recs:
        scene = scene_from_dict(r.scene)
        image = render(scene, size)
        right[r.tag].append(score_image(image, scene).all_correct)
        for sigma in SOFT_SIGMAS:
            soft[f"blur{sigma}_noise4"].append(score_image(soften(image, sigma, 4.0, rng), scene).all_correct)
        noise = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        fooled["uniform_noise"].append(score_image(noise, scene).all_correct)
        fooled["blank_black"].append(score_image(np.zeros((size, size, 3), np.uint8), scene).all_correct)
        fooled["blank_background"].append(score_image(blank_bg, scene).all_correct)
        other = score_image(render(different_scene(scene, rng), size), scene).all_correct
        fooled["different_scene"].append(other)
        fooled_by_cat[r.tag].append(other)
    holdout = sample_prompts("holdout", max(n // 5, 4), SEED)
    return {
        "n": n,
        "all_correct_by_category": {c: _rate(right[c]) for c in CATEGORIES},
        "n_by_category": {c: len(right[c]) for c in CATEGORIES},
        "all_correct_overall": _rate([h for c in CATEGORIES for h in right[c]]),
        "all_correct_holdout": _rate([score_image(render(scene_from_dict(r.scene), size), r.scene).all_correct for r in holdout]),
        "n_holdout": len(holdout),
        "fooling_rate": {k: _rate(v) for k, v in fooled.items()},
        "all_correct_soft": {k: _rate(v) for k, v in soft.items()},
        "different_scene_fooling_by_category": {c: _rate(fooled_by_cat[c]) for c in CATEGORIES},
    }


def throughput(n: int, size: int) -> dict:
    scenes = [scene_from_dict(r.scene) for r in sample_prompts("train", n, SEED)]
    t0 = time.perf_counter()
    images = [render(s, size) for s in scenes]
    t_render = time.perf_counter() - t0
    ds = ShapesDataset("train", size=size, seed=SEED, length=n)
    t0 = time.perf_counter()
    for i in range(n):
        ds[i]
    t_dataset = time.perf_counter() - t0
    m = min(n, 1000)
    t0 = time.perf_counter()
    for img, s in zip(images[:m], scenes[:m]):
        score_image(img, s)
    t_score = time.perf_counter() - t0
    return {"render_images_per_s": n / t_render, "dataset_items_per_s": n / t_dataset, "oracle_images_per_s": m / t_score,
            "n": n, "load_average_1m": os.getloadavg()[0]}  # other processes share the cores: see the load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="fresh renders per resolution (default 5000)")
    parser.add_argument("--throughput-n", type=int, default=5000, help="images per throughput measurement")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    result: dict = {"seed": SEED, "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                    "python": platform.python_version(), "accuracy": {}, "throughput": {}}  # fmt: skip
    for size in (32, 64):
        t0 = time.perf_counter()
        result["accuracy"][f"{size}px"] = accuracy_and_fooling(args.n, size)
        print(f"{size}px accuracy/fooling done in {time.perf_counter() - t0:.0f} s:", json.dumps(result["accuracy"][f"{size}px"]))
        result["throughput"][f"{size}px"] = throughput(args.throughput_n, size)
        print(f"{size}px throughput:", json.dumps(result["throughput"][f"{size}px"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
