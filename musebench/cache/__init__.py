"""Content-addressed cache of generated images (and the features directory metrics use)."""

from musebench.cache.keys import canonical_json, image_key
from musebench.cache.location import resolve_cache_dir
from musebench.cache.store import ImageCache, ImageMeta, decode_png, encode_png

__all__ = ["ImageCache", "ImageMeta", "canonical_json", "decode_png", "encode_png", "image_key", "resolve_cache_dir"]
