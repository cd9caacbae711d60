"""musebench.imageio: every image mode by the one documented rule, pixel values checked against numpy;
bombs, truncated files, non-images, empty files and misnamed files refused in one line naming the file."""

from __future__ import annotations

import numpy as np
import pytest
from bad_inputs.image_bytes import bomb_png, pil_bytes, png_bytes, tiff_bytes, truncated_jpeg, truncated_png
from PIL import Image

from musebench.errors import MusebenchError
from musebench.imageio import MAX_PIXELS, image_size, read_rgb

RNG = np.random.default_rng(23)
GREY16 = np.array([[0, 255, 256, 257], [32767, 32896, 65280, 65535]], dtype=np.uint16)  # (H, W) edge values
GREY8 = RNG.integers(0, 256, (3, 4), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, (3, 4, 3), dtype=np.uint8)
ALPHA8 = np.array([[0, 1, 127, 128], [200, 254, 255, 0], [64, 255, 0, 255]], dtype=np.uint8)


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _grey(values: np.ndarray) -> np.ndarray:
    return np.repeat(values.astype(np.uint8)[..., None], 3, axis=2)


def _on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """round((c a + 255 (255 - a)) / 255) in floats, the rule's integer formula checked independently."""
    a = alpha.astype(np.float64)[..., None] / 255
    return np.floor(rgb * a + 255 * (1 - a) + 0.5).astype(np.uint8)


def test_rgb_and_grey_are_read_as_stored(tmp_path):
    assert np.array_equal(read_rgb(_write(tmp_path, "a.png", png_bytes(RGB8))), RGB8)
    assert np.array_equal(read_rgb(_write(tmp_path, "g.png", png_bytes(GREY8))), _grey(GREY8))
    bits = np.array([[0, 1, 1], [1, 0, 0]], dtype=bool)
    assert np.array_equal(read_rgb(_write(tmp_path, "b.png", pil_bytes(Image.fromarray(bits)))), _grey(bits * 255))


def test_16_bit_grey_keeps_the_high_byte_not_white(tmp_path):
    path = _write(tmp_path, "g16.png", png_bytes(GREY16))
    assert Image.open(path).mode == "I;16"
    assert np.array_equal(read_rgb(path), _grey(GREY16 >> 8))
    assert read_rgb(path)[1, 0, 0] == 127 and read_rgb(path)[1, 3, 0] == 255  # Pillow's convert("RGB") gives 255, 255


def test_16_bit_rgb_and_rgba_follow_the_same_high_byte_rule(tmp_path):
    rgb16 = RNG.integers(0, 65536, (3, 4, 3), dtype=np.uint16)
    assert np.array_equal(read_rgb(_write(tmp_path, "c16.png", png_bytes(rgb16))), (rgb16 >> 8).astype(np.uint8))
    rgba16 = np.concatenate([rgb16, (ALPHA8.astype(np.uint16) * 257)[..., None]], axis=2)
    got = read_rgb(_write(tmp_path, "ca16.png", png_bytes(rgba16)))
    assert np.array_equal(got, _on_white((rgb16 >> 8).astype(np.float64), ALPHA8))
    la16 = np.stack([GREY16[:, :3].repeat(1, 0)[:2], np.full((2, 3), 65535, np.uint16)], axis=2)
    assert np.array_equal(read_rgb(_write(tmp_path, "la16.png", png_bytes(la16))), _grey(la16[..., 0] >> 8))


def test_an_8_bit_image_stored_as_16_bits_reads_back_exactly(tmp_path):
    stored = RGB8.astype(np.uint16) * 257  # what a converter writes when it widens 8 -> 16 bits
    assert np.array_equal(read_rgb(_write(tmp_path, "w.png", png_bytes(stored))), RGB8)
    assert np.array_equal(read_rgb(_write(tmp_path, "wg.png", png_bytes(GREY8.astype(np.uint16) * 257))), _grey(GREY8))


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.concatenate([RGB8, ALPHA8[..., None]], axis=2)
    assert np.array_equal(read_rgb(_write(tmp_path, "a.png", png_bytes(rgba))), _on_white(RGB8, ALPHA8))
    la = np.stack([GREY8, ALPHA8], axis=2)
    assert np.array_equal(read_rgb(_write(tmp_path, "la.png", png_bytes(la))), _on_white(_grey(GREY8), ALPHA8))
    webp = _write(tmp_path, "a.webp", pil_bytes(Image.fromarray(rgba, "RGBA"), "WEBP", lossless=True))
    assert np.array_equal(read_rgb(webp), _on_white(RGB8, ALPHA8))


def test_palette_with_and_without_transparency(tmp_path):
    palette = RNG.integers(0, 256, (4, 3), dtype=np.uint8)
    index = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], dtype=np.uint8)
    image = Image.fromarray(index, "P")
    image.putpalette(palette.flatten().tolist())
    assert np.array_equal(read_rgb(_write(tmp_path, "p.png", pil_bytes(image))), palette[index])
    path = _write(tmp_path, "pt.png", pil_bytes(image, transparency=2))  # index 2 fully transparent
    assert Image.open(path).mode == "P" and "transparency" in Image.open(path).info
    expected = palette[index].copy()
    expected[index == 2] = 255
    assert np.array_equal(read_rgb(path), expected)


def test_transparent_colour_of_grey_and_rgb_is_white(tmp_path):
    grey = Image.fromarray(np.array([[9, 50]], dtype=np.uint8))
    assert read_rgb(_write(tmp_path, "l.png", pil_bytes(grey, transparency=9))).tolist() == [[[255] * 3, [50] * 3]]
    rgb = Image.fromarray(np.array([[[9, 9, 9], [50, 60, 70]]], dtype=np.uint8))
    assert read_rgb(_write(tmp_path, "c.png", pil_bytes(rgb, transparency=(9, 9, 9)))).tolist() == [[[255] * 3, [50, 60, 70]]]


def test_cmyk_is_the_naive_product_rule(tmp_path):
    cmyk = RNG.integers(0, 256, (3, 4, 4), dtype=np.uint8)
    path = _write(tmp_path, "k.tif", pil_bytes(Image.fromarray(cmyk, "CMYK"), "TIFF"))
    c, k = cmyk[..., :3].astype(np.float64), cmyk[..., 3:].astype(np.float64)
    assert np.array_equal(read_rgb(path), np.floor((255 - c) * (255 - k) / 255 + 0.5).astype(np.uint8))


def test_cmyk_jpeg_is_read(tmp_path):
    path = _write(tmp_path, "k.jpg", pil_bytes(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=100))
    assert read_rgb(path).shape == (8, 8, 3) and int(read_rgb(path).min()) >= 250  # no ink: white


def test_32_bit_integer_is_16_bit_data(tmp_path):
    values = GREY16.astype(np.int32)
    assert np.array_equal(read_rgb(_write(tmp_path, "i.tif", tiff_bytes(values))), _grey(values >> 8))
    with pytest.raises(MusebenchError, match=r"i2.tif: 32-bit integer image with values in \[-5, 70000\]"):
        read_rgb(_write(tmp_path, "i2.tif", tiff_bytes(np.array([[-5, 70000]], dtype=np.int32))))


def test_float_is_zero_to_one(tmp_path):
    values = np.array([[0.0, 0.5, 1.0, 0.2]], dtype=np.float32)
    assert np.array_equal(read_rgb(_write(tmp_path, "f.tif", tiff_bytes(values))), _grey(np.rint(values * 255.0)))
    with pytest.raises(MusebenchError, match=r"f2.tif: float image with values in \[0, 255\]; musebench reads mode F as \[0, 1\]"):
        read_rgb(_write(tmp_path, "f2.tif", tiff_bytes(np.array([[0, 255]], dtype=np.float32))))
    with pytest.raises(MusebenchError, match="f3.tif: float image holds NaN"):
        read_rgb(_write(tmp_path, "f3.tif", tiff_bytes(np.array([[0, np.nan]], dtype=np.float32))))


def test_other_modes_are_refused_by_name(tmp_path):
    path = _write(tmp_path, "lab.tif", pil_bytes(Image.new("LAB", (2, 2), (50, 1, 2)), "TIFF"))
    with pytest.raises(MusebenchError, match="lab.tif: image mode LAB is not read by musebench; save it as 8-bit RGB"):
        read_rgb(path)


@pytest.mark.parametrize("name, data, message", [
    ("empty.png", b"", "empty.png: empty file (0 bytes)"),
    ("text.png", b"this is not an image\n", "text.png: not a readable image (not png/jpg/jpeg/webp/bmp/tif/tiff data)"),
    ("cut.png", truncated_png(), "cut.png: truncated or corrupt image data"),
    ("cut.jpg", truncated_jpeg(), "cut.jpg: truncated or corrupt image data"),
    ("photo.png", pil_bytes(Image.new("RGB", (4, 4)), "JPEG"), "photo.png: the file holds a JPEG image but is named .png; rename it to photo.jpg"),
    ("anim.gif", pil_bytes(Image.new("RGB", (4, 4)), "GIF"), "anim.gif: unsupported image type '.gif'"),
    ("bomb.png", bomb_png(), f"bomb.png: 10,000,000,000 pixels, over the {MAX_PIXELS:,} pixel limit (a possible decompression bomb"),
    ("mid.png", bomb_png(10_000, 10_000), "mid.png: 100,000,000 pixels, over the"),  # Pillow's own warning, as an error
    ("just_over.png", bomb_png(8193, 8192), "just_over.png: 8193x8192 = 67,117,056 pixels, over the 67,108,864 pixel limit"),
], ids=lambda v: v if isinstance(v, str) and "." in v and len(v) < 20 else "")
def test_broken_files_are_one_line_naming_the_file(tmp_path, name, data, message):
    path = _write(tmp_path, name, data)
    with pytest.raises(MusebenchError) as info:
        read_rgb(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text
    if name.startswith(("bomb", "mid", "just_over", "photo", "empty", "anim")):  # refused from the header: preflight sees it too
        with pytest.raises(MusebenchError, match=message[:20]):
            image_size(path)


def test_the_limit_is_inclusive_and_read_from_the_header(tmp_path):
    assert image_size(_write(tmp_path, "edge.png", bomb_png(8192, 8192))) == (8192, 8192)
    assert image_size(_write(tmp_path, "small.png", png_bytes(RGB8))) == (4, 3)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(MusebenchError, match="nope.png: image file not found"):
        read_rgb(tmp_path / "nope.png")


def test_decoder_noise_never_reaches_stderr(tmp_path, capfd):
    """libtiff prints its complaints to file descriptor 2: the one error line is all a user sees."""
    noise = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = bytearray(pil_bytes(Image.fromarray(noise), "TIFF", compression="tiff_lzw"))
    data[100:4000] = b"\xff" * 3900  # garbled LZW codes: libtiff says "Using code not yet in table."
    with pytest.raises(MusebenchError, match="lzw.tif: truncated or corrupt image data"):
        read_rgb(_write(tmp_path, "lzw.tif", bytes(data)))
    assert capfd.readouterr().err == ""


def test_every_call_site_reads_a_16_bit_copy_as_its_8_bit_original(tmp_path):
    """metrics (load_folder), shapes score (load_png), reference/real (_load_reference) and grids all
    go through read_rgb: a folder re-saved as 16 bits reads back byte-identical."""
    from musebench.metrics.image_folder import load_folder
    from musebench.models.real import _load_reference
    from musebench.report.data import ImageRef
    from musebench.report.grids import _load
    from musebench.shapes.folder import load_png, render_folder

    eight, sixteen = tmp_path / "eight", tmp_path / "sixteen"
    render_folder("val", 3, 0, 32, eight, progress=False)
    sixteen.mkdir()
    for path in sorted(eight.glob("*.png")):
        (sixteen / path.name).write_bytes(png_bytes(np.asarray(Image.open(path)).astype(np.uint16) * 257))
    assert np.array_equal(load_folder(sixteen).numpy(), load_folder(eight).numpy())
    first = sorted(eight.glob("*.png"))[0].name
    assert np.array_equal(load_png(sixteen / first), load_png(eight / first))
    assert np.array_equal(_load_reference(str(sixteen / first), 16), _load_reference(str(eight / first), 16))
    ref = ImageRef(path=sixteen / first, model="m", prompt="p", seed=0, params={})
    assert np.array_equal(_load(ref), load_png(eight / first))
