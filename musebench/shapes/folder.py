"""Image folders: `DIR/00000.png ...` plus `DIR/prompts.jsonl` (one object per image: file, prompt,
tag, scene, index, source). Rendering one, reading one back, and scoring one with the oracle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from musebench.cache.atomic import write_atomic_text, write_png
from musebench.errors import MusebenchError
from musebench.imageio import read_rgb
from musebench.prompts.base import PromptRecord
from musebench.shapes.oracle import ATTRIBUTES, OracleResult, score_image
from musebench.shapes.render import check_size, render
from musebench.shapes.scene import scene_from_dict
from musebench.shapes.splits import sample_prompts
from musebench.text_file import jsonl_lines

PROMPTS_FILE = "prompts.jsonl"


def render_folder(split: str, n: int, seed: int, size: int, out: Path, force: bool = False, progress: bool = True) -> list[PromptRecord]:
    """Render n prompts of a split into `out`; prompts.jsonl is written last, so a folder with one
    is complete."""
    check_size(size)
    records = sample_prompts(split, n, seed)  # validates split, n, seed before anything is written
    if out.exists() and not out.is_dir():
        raise MusebenchError(f"--out {out} is a file; give a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise MusebenchError(f"--out {out} is not empty; choose a new directory or pass --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    (out / PROMPTS_FILE).unlink(missing_ok=True)  # an interrupted overwrite must not look complete
    lines = []
    for rec in tqdm(records, desc=f"render {split}", unit="img", disable=not progress):
        name = f"{rec.index:05d}.png"
        write_png(out / name, render(scene_from_dict(rec.scene), size))
        lines.append(json.dumps({"file": name, "index": rec.index, "prompt": rec.prompt, "tag": rec.tag,
                                 "source": rec.source, "scene": rec.scene}))  # fmt: skip
    write_atomic_text(out / PROMPTS_FILE, "".join(line + "\n" for line in lines))
    return records


def read_prompts_jsonl(path: Path) -> list[dict]:
    """Entries of a prompts.jsonl; MusebenchError naming path:line for a bad line."""
    if not path.is_file():
        raise MusebenchError(f"{path} not found; a scored folder needs the prompts.jsonl written by `musebench shapes render` or `musebench generate`")
    entries = []
    for lineno, entry in jsonl_lines(path):
        if not isinstance(entry, dict) or "file" not in entry or "scene" not in entry:
            raise MusebenchError(f"{path}:{lineno}: needs an object with keys 'file' and 'scene' (the shapes scene)")
        try:
            entry["scene"] = scene_from_dict(entry["scene"])
        except MusebenchError as exc:
            raise MusebenchError(f"{path}:{lineno}: {exc}") from None
        entries.append({**entry, "lineno": lineno})
    if not entries:
        raise MusebenchError(f"{path} has no prompts; nothing to score")
    return entries


def load_png(path: Path) -> np.ndarray:
    """uint8 (H, W, 3) by musebench.imageio's rule; MusebenchError naming the file otherwise."""
    if not path.exists():
        raise MusebenchError(f"{path} not found (listed in {PROMPTS_FILE})")
    return read_rgb(path)


def score_folder(folder: Path, progress: bool = True) -> list[tuple[dict, OracleResult]]:
    entries = read_prompts_jsonl(folder / PROMPTS_FILE)
    results = []
    for entry in tqdm(entries, desc="score", unit="img", disable=not progress):
        path = folder / entry["file"]
        try:
            results.append((entry, score_image(load_png(path), entry["scene"])))
        except MusebenchError as exc:
            msg = str(exc)
            raise MusebenchError(msg if str(path) in msg else f"{path}: {msg}") from None
    return results


def _fractions(results: list[OracleResult]) -> dict:
    out: dict = {"all_correct": sum(r.all_correct for r in results) / len(results), "n": len(results)}
    for attr in ATTRIBUTES:
        vals = [r.attributes[attr] for r in results if r.attributes[attr] is not None]
        if vals:
            out[attr] = sum(vals) / len(vals)
    return out


def summarise(scored: list[tuple[dict, OracleResult]]) -> dict:
    """{"overall": {...}, "by_category": {tag: {...}}} with fractions in [0, 1]."""
    by_tag: dict[str, list[OracleResult]] = {}
    for entry, res in scored:
        by_tag.setdefault(entry.get("tag") or entry["scene"].category, []).append(res)
    return {
        "overall": _fractions([res for _, res in scored]),
        "by_category": {tag: _fractions(rs) for tag, rs in sorted(by_tag.items())},
    }


def format_table(summary: dict) -> str:
    cols = ("n", "all_correct") + ATTRIBUTES
    rows = [(tag, s) for tag, s in summary["by_category"].items()] + [("overall", summary["overall"])]
    width = max(len(t) for t, _ in rows)
    lines = [f"{'category':<{width}}  " + "  ".join(f"{c:>11}" for c in cols)]
    for tag, s in rows:
        cells = [f"{s['n']:>11d}"] + [f"{100 * s[c]:>10.1f}%" if c in s else f"{'-':>11}" for c in cols[1:]]
        lines.append(f"{tag:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)
