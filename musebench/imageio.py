"""Reading a user's image file: the one rule every command uses (metrics, shapes score, reference, real, grids).

`read_rgb(path)` returns uint8 (H, W, 3) RGB or raises one MusebenchError line naming the file.
Pixels are taken as stored: no EXIF rotation, no ICC colour management (as clean-fid and
torch-fidelity read them); a multi-frame file (animated WebP, multi-page TIFF) gives its first frame.

The conversion rule, per Pillow mode (tests/test_image_modes.py checks each against numpy):
    RGB                  as stored
    L                    grey g -> (g, g, g)
    1                    0 -> 0, 1 -> 255, then as L
    P                    palette entries looked up (Pillow's own lookup); with transparency as RGBA
    I;16 (I;16B/L/N)     16-bit grey v -> v >> 8 (the high byte), then as L
    I                    32-bit integers taken as 16-bit samples (how Pillow long held 16-bit
                         greyscale): values outside [0, 65535] are refused, then as I;16
    F                    32-bit floats taken as [0, 1] (the float-image convention of scikit-image
                         and OpenCV): round(255 x), values outside [0, 1] or NaN are refused
    16-bit RGB/RGBA/LA   Pillow decodes these to 8 bits keeping the high byte: the same v >> 8
    CMYK                 naive, no ICC profile: R = round((255 - C)(255 - K) / 255), same for G, B
    YCbCr, RGBX          Pillow's conversion to RGB (JFIF YCbCr; the padding byte dropped)
    LA, RGBA, PA, La, RGBa, and L/RGB/P with a transparent colour
                         composited on white: c' = round((c a + 255 (255 - a)) / 255), what a
                         viewer shows (a transparent pixel's stored colour is arbitrary). clean-fid
                         and torch-fidelity drop alpha instead; opaque images read the same either way.
A 16-bit sample keeps its high byte, so an 8-bit image stored as 16 bits (v = 257 k) reads back as k
exactly, and v = 65535 is 255 (Pillow's own convert("RGB") of I;16 clips every v > 255 to white).

Refused, each one line naming the file and the fix: a missing or empty file, content that is not
an image, a name whose suffix disagrees with the content (a JPEG named .png), truncated or corrupt
data, more than MAX_PIXELS pixels (a decompression bomb: checked from the header before decoding),
and any other mode (LAB, HSV, ...). Decoders' own chatter (Pillow's metadata warnings, libtiff's
prints to stderr) is kept out of the terminal: the one line is the message.
"""

from __future__ import annotations

import logging
import re
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

from musebench.errors import MusebenchError

# Pillow logs some refusals (a TIFF's samples per pixel) at ERROR before raising; with no handler
# configured Python would print them to stderr beside our one line. A NullHandler only stops that
# last-resort print: an application's own logging config still receives them.
logging.getLogger("PIL").addHandler(logging.NullHandler())

# 8192 x 8192 = 64 Mpx: eight 4K frames (3840 x 2160), far above any FID or oracle input, and 192 MB as uint8 RGB.
# Pillow's own bomb limit is 89.5 Mpx (warning) / 179 Mpx (error); ours is explicit and lower.
MAX_PIXELS = 8192 * 8192

# suffix -> the formats (Pillow's names) a file of that name may hold; JPEGs from cameras open as MPO.
SUFFIX_FORMATS = {
    ".png": ("PNG",), ".jpg": ("JPEG", "MPO"), ".jpeg": ("JPEG", "MPO"), ".webp": ("WEBP",),
    ".bmp": ("BMP", "DIB"), ".tif": ("TIFF",), ".tiff": ("TIFF",),
}  # fmt: skip
IMAGE_SUFFIXES = tuple(SUFFIX_FORMATS)
_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "DIB", "TIFF")  # the decoders tried (Pillow registers MPO under JPEG)
_SUFFIX_FOR = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "WEBP": ".webp", "BMP": ".bmp", "DIB": ".bmp", "TIFF": ".tif"}
_ALPHA_MODES = ("LA", "RGBA", "PA", "La", "RGBa")
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_PILLOW_TO_RGB = ("RGB", "L", "1", "P", "CMYK", "YCbCr", "RGBX")


def read_rgb(path: Path | str) -> np.ndarray:
    """uint8 (H, W, 3) RGB by the module's rule; MusebenchError naming the file otherwise."""
    path = Path(path)
    with _opened(path) as im:
        with _c_stderr_silenced() if im.format == "TIFF" else nullcontext():
            im.load()
        return to_rgb(im, path)


def image_size(path: Path | str) -> tuple[int, int]:
    """(width, height) from the header alone, after every check read_rgb makes before decoding:
    cheap enough for a preflight over a whole folder."""
    path = Path(path)
    with _opened(path) as im:
        return im.size


@contextmanager
def _opened(path: Path):
    """The open image, its file, format and size checked; Pillow's errors become one line."""
    from PIL import Image

    if not path.is_file():
        raise MusebenchError(f"{path}: image file not found" if not path.exists() else f"{path}: not a file")
    if path.suffix.lower() not in SUFFIX_FORMATS:
        raise MusebenchError(f"{path}: unsupported image type '{path.suffix}'; musebench reads {_suffix_list()}")
    if path.stat().st_size == 0:
        raise MusebenchError(f"{path}: empty file (0 bytes); regenerate or remove it")
    Image.init()  # register every plugin: open(formats=...) only finds those already loaded
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd metadata ("Corrupt EXIF data"): not errors
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=_FORMATS) as im:
                _check_header(path, im)
                yield im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow's check, at open
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(path, f"{int(found.group(1)):,} pixels" if found else f"more than {MAX_PIXELS:,} pixels") from None
    except Image.UnidentifiedImageError:
        raise MusebenchError(f"{path}: not a readable image (not {_suffix_list()} data); convert it to PNG") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MusebenchError(f"{path}: truncated or corrupt image data ({_first_line(exc)}); re-export or replace the file") from None


@contextmanager
def _c_stderr_silenced():
    """libtiff prints its complaints about a broken TIFF straight to file descriptor 2; the error
    that follows is ours, one line, so they are sent to a scratch file for the decode."""
    import os
    import sys
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _check_header(path: Path, im) -> None:
    if im.format not in SUFFIX_FORMATS[path.suffix.lower()]:
        raise MusebenchError(f"{path}: the file holds a {im.format} image but is named {path.suffix}; "
                             f"rename it to {path.stem}{_SUFFIX_FOR[im.format]}")
    width, height = im.size
    if width * height > MAX_PIXELS:
        raise _too_large(path, f"{width}x{height} = {width * height:,} pixels")


def _too_large(path: Path, size: str) -> MusebenchError:
    return MusebenchError(f"{path}: {size}, over the {MAX_PIXELS:,} pixel limit (a possible decompression bomb; "
                          "musebench.imageio.MAX_PIXELS); resize the image first")


def to_rgb(im, path: Path) -> np.ndarray:
    """The module's rule on a decoded Pillow image -> uint8 (H, W, 3)."""
    mode = im.mode
    if mode in _ALPHA_MODES or (mode in ("L", "RGB", "P") and "transparency" in im.info):
        return composite_on_white(np.asarray(im.convert("RGBA")))
    if mode == "CMYK":
        return cmyk_to_rgb(np.asarray(im))
    if mode in _SIXTEEN_BIT:
        return _grey(np.asarray(im).astype(np.uint16) >> 8)
    if mode == "I":
        return _grey(_int_to_8bit(np.asarray(im), path))
    if mode == "F":
        return _grey(_float_to_8bit(np.asarray(im), path))
    if mode in _PILLOW_TO_RGB:
        return np.array(im.convert("RGB"), dtype=np.uint8)  # (H, W, 3), a writable copy
    raise MusebenchError(f"{path}: image mode {mode} is not read by musebench; save it as 8-bit RGB "
                         "(modes read: RGB, RGBA, L, LA, 1, P, PA, CMYK, YCbCr, I;16, I, F)")


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 4) -> (H, W, 3): c' = round((c a + 255 (255 - a)) / 255), exact in integers."""
    colour, alpha = rgba[..., :3].astype(np.int32), rgba[..., 3:].astype(np.int32)
    return ((colour * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 4) -> (H, W, 3): round((255 - c)(255 - k) / 255), no colour profile."""
    ink, black = cmyk[..., :3].astype(np.int32), cmyk[..., 3:].astype(np.int32)
    return (((255 - ink) * (255 - black) + 127) // 255).astype(np.uint8)


def _grey(values: np.ndarray) -> np.ndarray:
    """(H, W) integers in [0, 255] -> uint8 (H, W, 3)."""
    return np.repeat(values.astype(np.uint8)[..., None], 3, axis=2)


def _int_to_8bit(values: np.ndarray, path: Path) -> np.ndarray:
    low, high = int(values.min()), int(values.max())
    if low < 0 or high > 65535:
        raise MusebenchError(f"{path}: 32-bit integer image with values in [{low}, {high}]; musebench reads mode I as "
                             "16-bit samples in [0, 65535]: save it as 8- or 16-bit")
    return values.astype(np.int64) >> 8


def _float_to_8bit(values: np.ndarray, path: Path) -> np.ndarray:
    if np.isnan(values).any():
        raise MusebenchError(f"{path}: float image holds NaN; save it as 8-bit")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 1:
        raise MusebenchError(f"{path}: float image with values in [{low:g}, {high:g}]; musebench reads mode F as [0, 1]: "
                             "divide by the maximum or save it as 8-bit")
    return np.rint(values.astype(np.float64) * 255)


def _suffix_list() -> str:
    return "/".join(s[1:] for s in IMAGE_SUFFIXES)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
