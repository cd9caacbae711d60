"""Cache: content-addressed keys, atomic PNG + index writes, verify/prune, location rules."""

from __future__ import annotations

import os

import pytest
import torch

from musebench.cache import ImageCache, ImageMeta, decode_png, encode_png, image_key, resolve_cache_dir
from musebench.cache import maintenance
from musebench.errors import MusebenchError

KEY_ARGS = dict(fingerprint="f" * 64, adapter="tiny", adapter_version="1", params={"steps": 2, "guidance": 1.0},
                prompt="a red circle", seed=5, resolution=32)


def _image(seed: int) -> torch.Tensor:
    return torch.randint(0, 256, (3, 32, 32), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def _meta(seed: int = 5) -> ImageMeta:
    return ImageMeta("tiny", "1", "f" * 64, '{"steps":2}', "a red circle", seed, 32)


def test_key_covers_every_input():
    base = image_key(**KEY_ARGS)
    assert base == image_key(**{**KEY_ARGS, "params": {"guidance": 1.0, "steps": 2}})  # order-free
    for name, value in [("fingerprint", "e" * 64), ("adapter", "muse"), ("adapter_version", "2"),
                        ("params", {"steps": 3, "guidance": 1.0}), ("prompt", "a red circle "), ("seed", 6),
                        ("resolution", 64)]:
        assert image_key(**{**KEY_ARGS, name: value}) != base, name


def test_png_round_trip_is_exact_and_deterministic():
    image = _image(0)
    assert torch.equal(decode_png(encode_png(image)), image)
    assert encode_png(image) == encode_png(image.clone())


def test_put_lookup_load(tmp_path):
    cache = ImageCache(tmp_path)
    keys = [image_key(**{**KEY_ARGS, "seed": s}) for s in range(3)]
    assert cache.lookup(keys) == set()
    cache.put_many([(k, _image(s), _meta(s)) for s, k in enumerate(keys)])
    assert cache.lookup(keys) == set(keys)
    assert torch.equal(cache.load(keys[1]), _image(1))
    assert cache.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cache.path_for(keys[2]).unlink()  # a row without its file is not an entry
    assert cache.lookup(keys) == set(keys[:2])


def test_verify_and_prune(tmp_path):
    cache = ImageCache(tmp_path)
    keys = [image_key(**{**KEY_ARGS, "seed": s}) for s in range(4)]
    cache.put_many([(k, _image(s), _meta(s)) for s, k in enumerate(keys)])
    assert maintenance.verify(cache).bad == []
    cache.path_for(keys[0]).write_bytes(b"\x89PNG truncated")  # corrupt
    cache.path_for(keys[1]).unlink()  # missing
    orphan = cache.path_for("ab" + "0" * 62)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(encode_png(_image(9)))
    temp = cache.path_for(keys[2]).parent / ".tmp-x.png.999999999.abcd"  # a dead writer's temp file
    temp.write_bytes(b"half")
    report = maintenance.verify(cache)
    assert sorted(line.split(":")[0] for line in report.bad) == sorted(keys[:2])
    assert report.orphans == [orphan] and report.temps == [temp] and report.entries == 4
    removed = maintenance.prune(cache, older_than_days=None, everything=False, features=False)
    assert removed == {"entries": 2, "orphans": 1, "temps": 1, "claims": 0, "feature_files": 0}
    after = maintenance.verify(cache)
    assert after.bad == [] and after.entries == 2 and not after.orphans and not after.temps
    assert maintenance.stats(cache)["entries"] == 2
    maintenance.prune(cache, older_than_days=None, everything=True, features=True)
    assert maintenance.stats(cache)["entries"] == 0


def test_location_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSEBENCH_CACHE", str(tmp_path / "env"))
    assert resolve_cache_dir(str(tmp_path / "flag")) == (tmp_path / "flag").resolve()
    assert resolve_cache_dir(None) == (tmp_path / "env").resolve()
    monkeypatch.delenv("MUSEBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_cache_dir(None) == (tmp_path / "xdg" / "musebench").resolve()


def test_never_inside_an_installed_package(tmp_path):
    import musebench

    with pytest.raises(MusebenchError, match="must not live inside an installed package"):
        resolve_cache_dir(os.path.join(os.path.dirname(musebench.__file__), "cache_here"))
    with pytest.raises(MusebenchError, match="must not live inside an installed package"):
        resolve_cache_dir(str(tmp_path / "lib" / "site-packages" / "x"))
