"""Image files as bytes, for the image-mode tests and the image cases of the bad-input corpus.

Pillow cannot write 16-bit RGB(A) PNGs, so `png_bytes` writes a PNG by the spec (IHDR, one
zlib IDAT with filter 0 per row, IEND): also how a decompression bomb is made, a header that
declares a huge image over a few bytes of data.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

PNG_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type: grey, grey+alpha, RGB, RGBA


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(pixels: np.ndarray) -> bytes:
    """A PNG of uint8 or uint16 pixels, (H, W) or (H, W, C) with C in 1..4, written by the spec."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    depth = 16 if pixels.dtype == np.uint16 else 8
    rows = pixels.astype(">u2" if depth == 16 else np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in rows)  # filter type 0 (None) on every row
    header = struct.pack(">IIBBBBB", width, height, depth, PNG_COLOUR_TYPES[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 1-bit greyscale PNG header declaring width x height over one compressed row: tens of bytes."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = zlib.compress(b"\0" * (1 + (width + 7) // 8))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", row) + _chunk(b"IEND", b"")


def pil_bytes(image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def rgb_png(size: int = 32, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A plain 8-bit RGB PNG: the good image next to a bad one."""
    from PIL import Image

    return pil_bytes(Image.new("RGB", (size, size), colour))


def rgb_jpeg(size: int = 32) -> bytes:
    from PIL import Image

    return pil_bytes(Image.new("RGB", (size, size), (40, 200, 40)), "JPEG", quality=95)


def truncated_png(size: int = 32) -> bytes:
    """A noisy PNG cut in the middle of its IDAT (noise, so the cut lands in pixel data)."""
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    data = png_bytes(noise)
    return data[: len(data) // 2]


def truncated_jpeg(size: int = 64) -> bytes:
    from PIL import Image

    noise = np.random.default_rng(1).integers(0, 256, (size, size, 3), dtype=np.uint8)
    data = pil_bytes(Image.fromarray(noise), "JPEG", quality=90)
    return data[: len(data) // 2]


def tiff_bytes(array: np.ndarray) -> bytes:
    """A TIFF of a float32 (mode F) or int32 (mode I) array."""
    from PIL import Image

    return pil_bytes(Image.fromarray(array), "TIFF")
