"""The one way a user's text file (a suite, a prompt or captions file) is read: bounded and decoded.

The size is taken from stat before any byte is read, so an 8 GiB (or sparse) file never enters
memory; at most `limit + 1` bytes are read either way (a file growing while read is caught too).
Undecodable bytes are one line naming file:line and the byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from musebench.errors import MusebenchError


def read_capped(path: Path, label: str, limit: int, too_large: str) -> bytes:
    """At most `limit` bytes of `path`; `{label}: {too_large}` beyond, a one-line error if unreadable."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            data = f.read(limit + 1) if size <= limit else b""
    except OSError as exc:
        raise MusebenchError(f"{label}: cannot read ({exc.strerror}); check its permissions") from None
    if max(size, len(data)) > limit:
        raise MusebenchError(f"{label}: {too_large}")
    return data


def decode_utf8(data: bytes, label: str, fix: str, encoding: str = "utf-8") -> str:
    """`data` as text; a bad byte is `{label}:{line}: not UTF-8 (byte 0x..); {fix}`."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MusebenchError(f"{label}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); {fix}") from None


def jsonl_lines(path: Path) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) of each non-blank line of a .jsonl file; a line that is not JSON
    is one error naming path:line. The caller checks each value's shape."""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except json.JSONDecodeError as exc:
            raise MusebenchError(f"{path}:{lineno}: not valid JSON ({exc.msg}); each line must be one JSON object") from None
