"""One figure style for every report plot: Okabe–Ito colours, vector PDFs at paper column widths
(3.3 and 6.9 in, fonts embedded as TrueType), PNG at 150 dpi.

Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable under the common colour
vision deficiencies; Wong (2011, Nature Methods 8:441) recommends them for figures. A series keeps
its colour in every figure of a report (`Palette`), and markers and line styles vary as well, so a
greyscale print still separates the series.
"""

from __future__ import annotations

import hashlib
import io
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (reports are built on headless machines)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from musebench.cache.atomic import write_atomic  # noqa: E402
from musebench.cache.figures import FigureCache  # noqa: E402

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


# Paper widths (inches) of the vector files: the .pdf fits a double-column page (6.9 in), the
# -1col.pdf one column (3.3 in), so LaTeX's \includegraphics[width=\columnwidth] does not rescale the
# 9 pt text. The PNG keeps the figure's own size (the web page's).
PDF_WIDTHS = ((".pdf", 6.9), ("-1col.pdf", 3.3))
MIN_INCHES = 1.0  # the narrowest a figure is drawn to fit a column


def single_column_pdf(pdf_name: str) -> str:
    """The single-column PDF's file name, from the double-column one's (stem.pdf -> stem-1col.pdf)."""
    return pdf_name[: -len(".pdf")] + PDF_WIDTHS[1][0]


def save(fig, out_dir: Path, stem: str, figures: FigureCache, drawn=None) -> tuple[str, str]:
    """Write `stem`.png, `stem`.pdf (6.9 in wide) and `stem`-1col.pdf (3.3 in) atomically (temp file +
    rename); return the PNG's and the double-column PDF's names.

    Every file is a byte-deterministic function of the figure. With a `figures` store that keeps
    (musebench.cache.figures; FigureCache(None) keeps nothing):
    - `drawn` (everything the caller drew: labels, colours, markers, line styles and the plotted
      numbers, as DataFrames, arrays, bytes, strings and numbers) keys the files together with
      the report code and matplotlib's version and style (drawn_key), and a figure drawn from the
      same inputs as an earlier one (a warm rerun, a plot whose numbers did not change) copies
      its files without rendering anything;
    - otherwise the PDFs, the slow part (TrueType subsetting of the embedded fonts), are kept under
      the hash of their figure's PNG and width, so a byte-identical PNG copies them instead.
    """
    suffixes = (".png", *(suffix for suffix, _ in PDF_WIDTHS))
    key = None if figures.root is None or drawn is None else drawn_key(drawn)
    stored = figures.drawn_files(key, suffixes) if key is not None else None
    if stored is not None:
        for suffix, data in zip(suffixes, stored):
            _write(out_dir / f"{stem}{suffix}", data)
        return f"{stem}.png", f"{stem}.pdf"
    with plt.rc_context(RC):
        png = _render(fig, "png", dpi=PNG_DPI, bbox_inches=_tight_box(fig))
        files = {".png": png}
        for suffix, inches in PDF_WIDTHS:
            by_png = hashlib.sha256(png + f"{_style_version()}|{inches}".encode()).hexdigest()
            pdf = figures.pdf_of_png(by_png)
            if pdf is None:
                pdf = _pdf_at_width(fig, inches)
                figures.keep_pdf_of_png(by_png, pdf)
            files[suffix] = pdf
    for suffix, data in files.items():
        _write(out_dir / f"{stem}{suffix}", data)
    if key is not None:
        figures.keep_drawn_files(key, files)
    return f"{stem}.png", f"{stem}.pdf"


def _pdf_at_width(fig, inches: float) -> bytes:
    """The figure as a PDF whose page (the padded tight box, legends outside included) is `inches`
    wide: the figure is resized, keeping its aspect, by the fixed-point step W <- W * inches / box(W).
    With box(W) ~ a W + c (c: text and legends, which keep their size) the step converges when c <
    inches; where c alone is wider (a legend wider than a column), the figure stops at MIN_INCHES and
    its PDF comes out wider than asked."""
    width, height = fig.get_size_inches()
    moved = []  # (axes, legend) pairs whose legend went below its axes for this width
    try:
        for attempt in range(2):
            for _ in range(8):
                box = _tight_box(fig)
                if abs(box.width - inches) < 0.01:
                    break
                current = fig.get_size_inches()[0]
                scale = max(current * inches / box.width, MIN_INCHES) / width
                fig.set_size_inches(width * scale, height * scale)
            if box.width <= inches + 0.02 or attempt or not (moved := _legends_below(fig)):
                break
        return _render(fig, "pdf", bbox_inches=_tight_box(fig))
    finally:
        for ax, legend in moved:  # the PNG and the other width keep the original layout
            ax.legend_ = legend  # Axes.legend keeps one legend in legend_: the moved one is dropped
        for ax in fig.axes:
            ax.title.set_wrap(False)
        fig.set_size_inches(width, height)


def _legends_below(fig) -> list:
    """Legends beside or below their axes, redrawn in one column under them, and titles wrapped (the
    fallback when text is what keeps a figure from a column's width); returns (axes, original legend)
    pairs (the titles unwrap with the figure's own width)."""
    moved = []
    for ax in fig.axes:
        ax.title.set_wrap(True)
        legend = ax.get_legend()
        if legend is None:
            continue
        handles, texts = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
        ax.legend(handles, texts, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=1)
        moved.append((ax, legend))
    return moved


def _tight_box(fig):
    """The padded tight bounding box (inches) that savefig(bbox_inches="tight") computes, measured as
    the PNG's renderer measures text and given to savefig explicitly ("tight" would lay the figure
    out once more per file); _pdf_at_width also reads its width to fit a page."""
    dpi = fig.dpi
    fig.dpi = PNG_DPI  # text extents as the PNG's renderer measures them
    try:
        fig.draw_without_rendering()
        box = fig.get_tightbbox()
    finally:
        fig.dpi = dpi
    pad = RC["savefig.pad_inches"]
    return box.padded(pad, pad)


def drawn_key(drawn) -> str:
    """sha256 of a figure's inputs (see save) and of everything else its pixels depend on: the
    report package's source code, matplotlib's version and the report style."""
    h = hashlib.sha256(_style_version().encode() + _code_version().encode())
    _feed(h, drawn)
    return h.hexdigest()


def _feed(h, value) -> None:
    """Hash `value` unambiguously (type tag + length + content); other types are a bug, not a miss."""
    if isinstance(value, pd.DataFrame):
        _feed(h, ("DataFrame", tuple(map(str, value.columns)), value.to_csv(index=False)))
    elif isinstance(value, pd.Series):
        _feed(h, ("Series", value.to_numpy()))
    elif isinstance(value, np.ndarray):
        data = value.tobytes() if value.dtype != object else repr(value.tolist()).encode()
        _feed(h, ("ndarray", str(value.dtype), value.shape, data))
    elif isinstance(value, (tuple, list)):
        h.update(f"[{len(value)}:".encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, dict):
        _feed(h, ("dict", sorted((str(k), v) for k, v in value.items())))
    elif isinstance(value, bytes):
        h.update(f"b{len(value)}:".encode() + value)
    elif value is None or isinstance(value, (str, int, float, bool, np.integer, np.floating, np.bool_)):
        text = repr(value.item() if isinstance(value, np.generic) else value)
        h.update(f"{type(value).__name__}{len(text)}:{text}".encode())
    else:
        raise TypeError(f"report figure key: cannot hash {type(value).__name__}; pass its plotted values")


@lru_cache(maxsize=1)
def _style_version() -> str:
    return f"|{matplotlib.__version__}|{sorted(RC.items())}|{PNG_DPI}"


@lru_cache(maxsize=1)
def _code_version() -> str:
    """Hash of the report package's source: an edit of any plotting code makes every key new."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


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
