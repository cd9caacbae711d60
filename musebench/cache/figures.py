"""The report's figure store: rendered figures kept by what they draw, so an unchanged figure is
not rendered twice (report/style.py `save` decides the keys; this module only keeps the bytes).

Layout under the store's root (the cache's features/report-figures/ for `musebench run`):
    drawn/ab/<key>.png + <key>.pdf   a figure's pair, keyed by its inputs (style.drawn_key)
    ab/<sha256 of PNG>.pdf           the PDF of a rendered PNG (the slow half to render)
The report builder is given a store explicitly (build_report(figure_cache=...)); FigureCache(None)
keeps nothing. Writes are atomic (cache/atomic.py); a read-only store only costs speed.
"""

from __future__ import annotations

from pathlib import Path

from musebench.cache.atomic import write_atomic_bytes


class FigureCache:
    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root)

    @classmethod
    def in_cache(cls, cache_dir: Path) -> FigureCache:
        """The store of the cache at `cache_dir` (`musebench run` and `musebench report` share it)."""
        return cls(Path(cache_dir) / "features" / "report-figures")

    def drawn_pair(self, key: str) -> tuple[bytes, bytes] | None:
        """(png, pdf) of a figure drawn from the inputs `key` hashes, when both are kept."""
        if self.root is None:
            return None
        folder = self.root / "drawn" / key[:2]
        try:
            return (folder / f"{key}.png").read_bytes(), (folder / f"{key}.pdf").read_bytes()
        except OSError:
            return None

    def keep_drawn_pair(self, key: str, png: bytes, pdf: bytes) -> None:
        if self.root is not None:
            folder = self.root / "drawn" / key[:2]
            self._keep(folder / f"{key}.pdf", pdf)  # the PDF first: a hit needs both
            self._keep(folder / f"{key}.png", png)

    def pdf_of_png(self, png_key: str) -> bytes | None:
        """The PDF kept for a figure whose PNG hashed to `png_key`."""
        path = self._pdf_path(png_key)
        return path.read_bytes() if path is not None and path.is_file() else None

    def keep_pdf_of_png(self, png_key: str, pdf: bytes) -> None:
        path = self._pdf_path(png_key)
        if path is not None:
            self._keep(path, pdf)

    def _pdf_path(self, png_key: str) -> Path | None:
        return None if self.root is None else self.root / png_key[:2] / f"{png_key}.pdf"

    @staticmethod
    def _keep(path: Path, data: bytes) -> None:
        try:
            write_atomic_bytes(path, data)
        except OSError:
            pass  # a read-only cache only costs speed
