"""One figure style for every report plot: Okabe–Ito colours, vector PDF, PNG at 150 dpi.

Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable under the common colour
vision deficiencies; Wong (2011, Nature Methods 8:441) recommends them for figures. A series keeps
its colour in every figure of a report (`Palette`), and markers and line styles vary as well, so a
greyscale print still separates the series.
"""

from __future__ import annotations

import hashlib
import io
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (reports are built on headless machines)

import matplotlib.pyplot as plt  # noqa: E402

from musebench.gate.atomic import write_atomic  # noqa: E402

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


# Where save() keeps the PDFs it rendered, keyed by the PNG of the same figure (see save); None: off.
_PDF_CACHE: ContextVar[Path | None] = ContextVar("musebench_report_pdf_cache", default=None)


@contextmanager
def pdf_cache(directory: Path | None):
    """Within this block, save() reuses PDFs from `directory` (None: renders every PDF)."""
    token = _PDF_CACHE.set(None if directory is None else Path(directory))
    try:
        yield
    finally:
        _PDF_CACHE.reset(token)


def save(fig, out_dir: Path, stem: str) -> tuple[str, str]:
    """Write `stem`.png and `stem`.pdf atomically (temp file + rename); return their names.

    The PDF is the slow half (TrueType subsetting for the embedded fonts). Both files are byte-
    deterministic functions of the figure, so under pdf_cache() a PDF is stored under the hash of
    its figure's PNG (+ matplotlib version and style) and a figure whose PNG is byte-identical to an
    earlier one (a warm rerun, an unchanged plot) copies that PDF instead of rendering it again.
    """
    with plt.rc_context(RC):
        png = _render(fig, "png", dpi=PNG_DPI)
        _write(out_dir / f"{stem}.png", png)
        cache = _PDF_CACHE.get()
        key = hashlib.sha256(png + f"|{matplotlib.__version__}|{sorted(RC.items())}".encode()).hexdigest()
        cached = None if cache is None else cache / f"{key[:2]}/{key}.pdf"
        pdf = cached.read_bytes() if cached is not None and cached.is_file() else None
        if pdf is None:
            pdf = _render(fig, "pdf")
            if cached is not None:
                try:
                    _write(cached, pdf)
                except OSError:
                    pass  # a read-only cache only costs speed
        _write(out_dir / f"{stem}.pdf", pdf)
    return f"{stem}.png", f"{stem}.pdf"


def _write(path: Path, data: bytes) -> None:
    write_atomic(path, data, "report")  # whole or absent, like every other file musebench writes


def _render(fig, ext: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=ext, metadata=_metadata(ext), **kwargs)
    return buffer.getvalue()



def _metadata(ext: str) -> dict:
    # No creation date: the same results give byte-identical PDFs (reports/ is committed).
    if ext == "pdf":
        return {"Creator": "musebench report", "Producer": None, "CreationDate": None}
    return {"Software": "musebench report"}
