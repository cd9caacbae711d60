"""`musebench cache stats | verify | prune`: what is in the cache, is every entry whole, clean up.

verify re-reads every indexed file: present, same size and sha256 as indexed, decodes as a PNG of
the indexed resolution. Temp files (a write killed before its rename) and complete files without a
row (killed between rename and index insert) are reported but are not entries.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from musebench.cache import claims
from musebench.cache.store import TMP_PREFIX, ImageCache, decode_png


@dataclass
class VerifyReport:
    entries: int = 0
    bad: list[str] = field(default_factory=list)  # "key: why"
    orphans: list[Path] = field(default_factory=list)  # complete PNGs with no index row
    temps: list[Path] = field(default_factory=list)  # interrupted writes


def _files(cache: ImageCache) -> tuple[list[Path], list[Path]]:
    pngs, temps = [], []
    for path in (cache.root / "images").rglob("*"):
        if path.is_file():
            (temps if path.name.startswith(TMP_PREFIX) else pngs).append(path)
    return pngs, temps


def _check_entry(cache: ImageCache, relpath: str, sha: str, size: int, resolution: int) -> str | None:
    path = cache.root / relpath
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "file missing"
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
        return "content differs from the index (size or sha256)"
    try:
        image = decode_png(data)
    except (OSError, ValueError) as exc:
        return f"not a readable PNG ({exc})"
    if tuple(image.shape[1:]) != (resolution, resolution):
        return f"size {tuple(image.shape[1:])}, indexed {resolution}"
    return None


def verify(cache: ImageCache, progress=None) -> VerifyReport:
    report = VerifyReport()
    rows = cache.db.execute("SELECT key, relpath, sha256, bytes, resolution FROM images").fetchall()
    indexed = set()
    for key, relpath, sha, size, resolution in (progress(rows) if progress else rows):
        report.entries += 1
        indexed.add(relpath)
        problem = _check_entry(cache, relpath, sha, size, resolution)
        if problem:
            report.bad.append(f"{key}: {problem}")
    pngs, report.temps = _files(cache)
    report.orphans = [p for p in pngs if str(p.relative_to(cache.root)) not in indexed]
    return report


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale_temp(path: Path, now: float) -> bool:
    """A temp file whose writer is gone (its pid is in the name) or that is over a day old."""
    try:
        pid = int(path.name.rsplit(".", 2)[-2])
    except (ValueError, IndexError):
        pid = -1
    return pid <= 0 or not _pid_alive(pid) or now - path.stat().st_mtime > 86400


def stats(cache: ImageCache) -> dict:
    db = cache.db
    entries, size = db.execute("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM images").fetchone()
    by_model = db.execute(
        "SELECT adapter, fingerprint, COUNT(*), SUM(bytes) FROM images GROUP BY adapter, fingerprint ORDER BY adapter"
    ).fetchall()
    features = [p for p in cache.features_dir.rglob("*") if p.is_file()]
    return {
        "root": str(cache.root),
        "entries": entries,
        "bytes": size,
        "models": [{"adapter": a, "fingerprint": f[:12], "entries": n, "bytes": b} for a, f, n, b in by_model],
        "feature_files": len(features),
        "feature_bytes": sum(p.stat().st_size for p in features),
    }


def prune(cache: ImageCache, older_than_days: float | None, everything: bool, features: bool) -> dict:
    """Remove bad entries, orphans, stale temps and unheld claim files; optionally entries older than N
    days, or all."""
    now = time.time()
    report = verify(cache)
    doomed = {line.split(":", 1)[0] for line in report.bad}
    if everything:
        doomed |= {k for (k,) in cache.db.execute("SELECT key FROM images")}
    elif older_than_days is not None:
        cutoff = now - older_than_days * 86400
        doomed |= {k for (k,) in cache.db.execute("SELECT key FROM images WHERE created < ?", (cutoff,))}
    keys = sorted(doomed)
    cache.db.execute("BEGIN IMMEDIATE")  # rows first: a row never points at a removed file
    cache.db.executemany("DELETE FROM images WHERE key = ?", [(k,) for k in keys])
    cache.db.execute("COMMIT")
    for key in keys:
        cache.path_for(key).unlink(missing_ok=True)
    for path in report.orphans:
        path.unlink(missing_ok=True)
    temps = [p for p in report.temps if _stale_temp(p, now)]
    for path in temps:
        path.unlink(missing_ok=True)
    stale_claims = claims.remove_stale(cache.root)
    removed_features = 0
    if features:
        for path in [p for p in cache.features_dir.rglob("*") if p.is_file()]:
            path.unlink()
            removed_features += 1
    return {"entries": len(keys), "orphans": len(report.orphans), "temps": len(temps), "claims": stale_claims,
            "feature_files": removed_features}
