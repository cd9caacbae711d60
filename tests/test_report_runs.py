"""Synthetic but plausible run directories for the report tests (results.jsonl, run.json, PNGs).

The numbers follow the shapes the real suites produce (FID falls with steps and saturates, CLIP
score rises with guidance while FID turns back up, diffusion needs more steps and more time per
image), with seeded noise; the tests compute what they expect from the rows written here, never
from the report.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

CATEGORIES = ("color_attr", "colors", "counting", "holdout", "position", "single_object", "two_object")
PROMPTS = ("a red circle", "two blue squares left of a green triangle", "a small yellow star")


def _row(suite: str, model: str, params: dict, metric: str, value: float, n: int, ci, hib: bool, extra=None) -> dict:
    return {"suite": suite, "model": model, "params": params, "metric": metric, "value": value, "n": n,
            "ci95": ci, "higher_is_better": hib, "extra": extra or {}}


def _wilson(k: int, n: int) -> list[float]:
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 6), round(centre + half, 6)]


def point_rows(suite: str, model: str, params: dict, quality: float, ms: float, rng: np.random.RandomState) -> list[dict]:
    """Every metric of one sweep point; `quality` in (0, 1) drives accuracy, FID and CLIP score."""
    n = 64
    rows = []
    k = int(round(quality * n))
    rows.append(_row(suite, model, params, "oracle/all_correct", k / n, n, _wilson(k, n), True))
    for i, cat in enumerate(CATEGORIES):
        kc = int(np.clip(round((quality - 0.05 * i + rng.uniform(-0.03, 0.03)) * 16), 0, 16))
        rows.append(_row(suite, model, params, f"oracle/{cat}", kc / 16, 16, _wilson(kc, 16), True, {"kind": "category"}))
    ka = int(round(min(1.0, quality + 0.1) * n))
    rows.append(_row(suite, model, params, "oracle/attribute/colour", ka / n, n, _wilson(ka, n), True, {"kind": "attribute"}))
    guidance = float(params.get("guidance", 2.0))
    fid = 40.0 * (1.0 - quality) + 4.0 + 1.5 * (guidance - 2.0) ** 2 + rng.uniform(-0.3, 0.3)
    rows.append(_row(suite, model, params, "fid/probe", round(fid, 4), n, [round(fid - 2.0, 4), round(fid + 2.5, 4)], False))
    clip = 20.0 + 6.0 * quality + 1.2 * math.log1p(guidance) + rng.uniform(-0.1, 0.1)
    rows.append(_row(suite, model, params, "clip_score/probe", round(clip, 4), n, [round(clip - 0.4, 4), round(clip + 0.4, 4)], True))
    rows.append(_row(suite, model, params, "latency/ms_per_image_b1", round(ms, 3), 20, [round(ms * 0.97, 3), round(ms * 1.04, 3)], False,
                     {"p95_ms": round(ms * 1.1, 3)}))
    rows.append(_row(suite, model, params, "latency/ratio", round(ms / 10.0, 5), 20, None, False))
    return rows


def _image(path: Path, params: dict, prompt_index: int) -> None:
    """A 32x32 PNG whose colour encodes the sweep point (so grids differ per cell)."""
    steps = float(params.get("steps", 1))
    guidance = float(params.get("guidance", 0))
    img = np.zeros((32, 32, 3), dtype=np.uint8)  # (H, W, 3)
    img[...] = (int(steps * 7) % 256, int(guidance * 50) % 256, 60 * prompt_index)
    img[8:24, 8 + 4 * prompt_index: 20 + 4 * prompt_index] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def write_run(run_dir: Path, suite: str = "paper", seed: int = 0, quality_shift: float = 0.0, images: bool = True) -> Path:
    """A run of Muse (steps and guidance sweeps) against a diffusion model with two schedulers."""
    rng = np.random.RandomState(seed)
    rows, refs = [], []
    points = []
    for steps in (1, 2, 4, 8, 16, 32):
        points.append(("muse", {"steps": steps, "guidance": 2.0}, 0.9 * (1 - math.exp(-steps / 4)), 3.0 + 1.6 * steps))
    for guidance in (0.0, 1.0, 4.0, 8.0):
        points.append(("muse", {"steps": 8, "guidance": guidance}, 0.9 * (1 - math.exp(-2)) - 0.02 * abs(guidance - 2), 3.0 + 1.6 * 8))
    for scheduler, speed in (("ddim", 1.0), ("dpmsolver++", 0.7)):
        for steps in (5, 10, 25, 50):
            quality = 0.85 * (1 - math.exp(-steps * speed / 12))
            points.append(("ldm", {"scheduler": scheduler, "steps": steps, "guidance": 3.0}, quality, 2.0 + 4.5 * steps))
    for model, params, quality, ms in points:
        rows += point_rows(suite, model, params, min(0.99, max(0.01, quality + quality_shift)), ms, rng)
        if images and model == "muse":
            for p, prompt in enumerate(PROMPTS):
                rel = f"images/{model}_{params['steps']}_{params['guidance']}_{p}.png"
                _image(run_dir / rel, params, p)
                refs.append({"model": model, "params": params, "prompt": prompt, "seed": 0, "path": rel})
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_json = {
        "suite_name": suite, "suite_path": f"suites/{suite}.yaml", "suite_hash": "ab12cd34ef56ab12cd34",
        "suite": {"name": suite, "gates": [], "report": {}}, "git_commit": "0123456789abcdef", "versions": {"python": "3.11"},
        "device": "cpu", "timings": {"generate": 12.5, "metrics": 3.25}, "cache": {"hits": 10, "misses": 30},
        "started": "2026-11-27T10:00:00Z", "finished": "2026-11-27T10:01:00Z", "argv": ["musebench", "run"], "images": refs,
    }
    (run_dir / "run.json").write_text(json.dumps(run_json, indent=1), encoding="utf-8")
    return run_dir


def read_rows(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]


def test_synthetic_run_is_a_valid_run(tmp_path: Path) -> None:
    """The fixture itself passes the strict reader, and its numbers have the intended shape."""
    from musebench.report.data import load_runs

    run = write_run(tmp_path / "run")
    runs, df = load_runs([run])
    assert len(runs[0].images) == 10 * len(PROMPTS)
    fid = df[(df["metric"] == "fid/probe") & (df["model"] == "muse")]
    by_steps = {p["steps"]: v for p, v in zip(fid["params"], fid["value"]) if p["guidance"] == 2.0}
    assert by_steps[32] < by_steps[1]
