"""The report's figure store: rendered figures kept by what they draw, so an unchanged figure is
not rendered twice (report/style.py `save` decides the keys; this module only keeps the bytes).

Layout under the store's root (the cache's features/report-figures/ for `musebench run`):
    drawn/ab/<key>.png, .pdf, -1col.pdf   a figure's files, keyed by its inputs (style.drawn_key)
    ab/<sha256 of PNG + width>.pdf        a PDF of a rendered PNG at one page width (the slow half)
The report builder is given a store explicitly (build_report(figure_cache=...)); FigureCache(None)
keeps nothing. Entries are kept by the derived store (cache/derived.py: atomic writes; a read-only
store only costs speed).
"""

from __future__ import annotations

from pathlib import Path

from musebench.cache.derived import DerivedStore


class FigureCache:
    def __init__(self, root: Path | None) -> None:
        self._store = DerivedStore(root)
        self.root = self._store.root

    @classmethod
    def in_cache(cls, cache_dir: Path) -> FigureCache:
        """The store of the cache at `cache_dir` (`musebench run` and `musebench report` share it)."""
        return cls(DerivedStore.in_cache(cache_dir).root / "report-figures")

    def drawn_files(self, key: str, suffixes: tuple[str, ...]) -> list[bytes] | None:
        """The files (one per suffix, e.g. ".png", ".pdf", "-1col.pdf") of a figure drawn from the
        inputs `key` hashes, when every one is kept."""
        found = [self._store.get_bytes(f"drawn/{key[:2]}/", key, suffix) for suffix in suffixes]
        return None if any(data is None for data in found) else found

    def keep_drawn_files(self, key: str, files: dict[str, bytes]) -> None:
        """Keep a figure's files by suffix; the first suffix (the PNG) last: a hit needs them all."""
        items = list(files.items())
        for suffix, data in items[1:] + items[:1]:
            self._store.put_bytes(f"drawn/{key[:2]}/", key, suffix, data)

    def pdf_of_png(self, png_key: str) -> bytes | None:
        """The PDF kept for a figure whose PNG (and page width) hashed to `png_key`."""
        return self._store.get_bytes(f"{png_key[:2]}/", png_key, ".pdf")

    def keep_pdf_of_png(self, png_key: str, pdf: bytes) -> None:
        self._store.put_bytes(f"{png_key[:2]}/", png_key, ".pdf", pdf)
