"""Content-addressed cache of generated images (and the features directory metrics use).

The store (PNG encode/decode, torch) is imported on first use: `cache stats` on a mistyped path,
like every refused command, answers without torch's import time and memory.
"""

from musebench.cache.keys import canonical_json, image_key
from musebench.cache.location import resolve_cache_dir

_STORE = ("ImageCache", "ImageMeta", "decode_png", "encode_png")


def __getattr__(name: str):
    if name in _STORE:
        from musebench.cache import store

        return getattr(store, name)
    raise AttributeError(f"module 'musebench.cache' has no attribute {name!r}")


__all__ = ["ImageCache", "ImageMeta", "canonical_json", "decode_png", "encode_png", "image_key", "resolve_cache_dir"]
