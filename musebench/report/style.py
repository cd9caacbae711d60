"""One figure style for every report plot: Okabe–Ito colours, vector PDF, PNG at 150 dpi.

Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable under the common colour
vision deficiencies; Wong (2011, Nature Methods 8:441) recommends them for figures. A series keeps
its colour in every figure of a report (`Palette`), and markers and line styles vary as well, so a
greyscale print still separates the series.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (reports are built on headless machines)

import matplotlib.pyplot as plt  # noqa: E402

# Okabe–Ito, blue first (the reference Muse is the first series of most figures); yellow last: it
# is the one colour of the set with too little contrast on white for thin lines.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")  # one per run directory in side-by-side comparisons
BAND_ALPHA = 0.2  # interval bands
PNG_DPI = 150

RC = {
    "figure.figsize": (5.0, 3.4),
    "figure.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.5,
    "lines.markersize": 4.5,
    "pdf.fonttype": 42,  # TrueType in the PDF: text stays text (selectable, editable in a paper)
    "svg.fonttype": "none",
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
}


class Palette:
    """Stable colour and marker per series key; keys registered up front get the first colours."""

    def __init__(self, keys: list[str]) -> None:
        self._index = {key: i for i, key in enumerate(dict.fromkeys(keys))}

    def _slot(self, key: str) -> int:
        if key not in self._index:
            self._index[key] = len(self._index)
        return self._index[key]

    def color(self, key: str) -> str:
        return OKABE_ITO[self._slot(key) % len(OKABE_ITO)]

    def marker(self, key: str) -> str:
        return MARKERS[self._slot(key) % len(MARKERS)]


def legend(ax, entries: int) -> None:
    """Inside the axes for a few series, outside on the right for more (never over the data)."""
    if entries > 4:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(loc="best")


def linestyle(run_index: int) -> str:
    return LINESTYLES[run_index % len(LINESTYLES)]


@contextmanager
def figure(width: float = 5.0, height: float = 3.4, ncols: int = 1, nrows: int = 1):
    """A figure in the report style; closed on exit so long reports do not pile up memory."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
        try:
            yield fig, axes
        finally:
            plt.close(fig)


def save(fig, out_dir: Path, stem: str) -> tuple[str, str]:
    """Write `stem`.png and `stem`.pdf atomically (temp file + rename); return their names."""
    names = []
    with plt.rc_context(RC):
        for ext, kwargs in (("png", {"dpi": PNG_DPI}), ("pdf", {})):
            final = out_dir / f"{stem}.{ext}"
            tmp = out_dir / f".{stem}.{ext}.tmp"
            fig.savefig(tmp, format=ext, metadata=_metadata(ext), **kwargs)
            os.replace(tmp, final)
            names.append(final.name)
    return names[0], names[1]


def _metadata(ext: str) -> dict:
    # No creation date: the same results give byte-identical PDFs (reports/ is committed).
    if ext == "pdf":
        return {"Creator": "musebench report", "Producer": None, "CreationDate": None}
    return {"Software": "musebench report"}
