"""Loss curves on disk: one CSV row per logged step (append-only, truncated on resume) and a plot."""

from __future__ import annotations

import csv
from pathlib import Path

from reference_model.atomic_file import write_atomic_via


def append_row(path: Path, row: dict[str, float]) -> None:
    """Append one row; writes the header when the file is new."""
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def read_rows(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def truncate_after(path: Path, step: int) -> None:
    """Drop rows logged after `step` (a resumed run redoes them), atomically."""
    if not path.exists():
        return
    logged = read_rows(path)
    rows = [r for r in logged if r["step"] <= step]
    if len(rows) == len(logged):
        return  # nothing to drop: the file stays as written (re-running a finished stage touches nothing)
    if rows:
        write_atomic_via(path, lambda tmp: [append_row(tmp, row) for row in rows])
    else:
        path.unlink()


def plot(path: Path, png: Path, columns: list[str], title: str) -> None:
    """Plot `columns` of the CSV against step, one panel each, to png (atomic write)."""
    rows = read_rows(path)
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in columns if c in rows[0]]
    fig, axes = plt.subplots(1, len(cols), figsize=(4 * len(cols), 3), squeeze=False)
    steps = [r["step"] for r in rows]
    for ax, col in zip(axes[0], cols):
        ax.plot(steps, [r[col] for r in rows], lw=1)
        ax.set_xlabel("step")
        ax.set_title(col)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    write_atomic_via(png, lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)
