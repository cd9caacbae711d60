"""What the fuzzer feeds to what: hypothesis strategies and the reader each one exercises.

Every target reads an arbitrary input and must either succeed or raise MusebenchError (one line for
the user); any other exception escaping is a bug (issue 23, item 7). tests/test_fuzz.py runs each
target for a bounded number of examples; benchmarks/fuzz_long.py runs them for minutes.

Targets: the suite parser (random YAML-ish text, character edits of a good suite, structured edits
of its tree, `--set` overrides), the prompt-file loaders (random bytes, lines and JSON rows for each
format, COCO captions JSON) and the image reader (random bytes, edited PNG bytes).
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from hypothesis import strategies as st
from runner_support import TINY_SUITE

from musebench.errors import MusebenchError

GOOD_SUITE = TINY_SUITE.format(batch_size=4, limit=2)
# Characters that mean something to YAML, plus a few words the schema knows.
YAML_ALPHABET = st.sampled_from(list(" \n\t:-[]{},#&*!|>'\"%@`?.0123456789abcxyz\\") + ["\u00e9", "\ud7ff", "\x00", "\x85"])
YAML_WORDS = st.sampled_from(["version: 1\n", "models:\n", "  m: {adapter: tiny}\n", "prompts:", " {source: shapes, limit: 2}",
                              "metrics:", " {oracle: {}}\n", "&a ", "*a", "<<: ", "!!set ", "!!binary ", "${X}", "${HOME:-x}",
                              "include: s.yaml\n", "- ", "? ", ".nan", ".inf", "1e9", "~", "null"])


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy
    run: Callable[[object, Path], None]  # reads the example inside a fresh directory


def _write(directory: Path, name: str, data: bytes | str) -> Path:
    path = directory / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


# ---- suites ------------------------------------------------------------------------------------

def _load_suite_text(text: str, directory: Path, overrides: tuple[str, ...] = ()) -> None:
    from musebench.suite import load_suite

    load_suite(_write(directory, "s.yaml", text), overrides)


def _yamlish() -> st.SearchStrategy:
    pieces = st.one_of(st.text(YAML_ALPHABET, max_size=12), YAML_WORDS)
    return st.lists(pieces, max_size=40).map("".join)


def _char_edits() -> st.SearchStrategy:
    """The good suite with a few characters deleted, inserted or replaced."""
    edit = st.tuples(st.integers(0, len(GOOD_SUITE)), st.integers(0, 3), st.text(YAML_ALPHABET, max_size=3))

    def apply(edits) -> str:
        text = GOOD_SUITE
        for at, cut, insert in edits:
            text = text[:at] + insert + text[at + cut:]
        return text

    return st.lists(edit, min_size=1, max_size=4).map(apply)


def _json_values(max_leaves: int = 8) -> st.SearchStrategy:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
                        st.text(max_size=8), st.sampled_from(["tiny", "shapes", "val", "oracle", "pixel_mean/all"]))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                        max_leaves=max_leaves)


def _paths(tree: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found += _paths(value, (*prefix, i))
    return found


def _tree_edits() -> st.SearchStrategy:
    """The good suite's tree with values replaced, keys deleted or added, dumped back to YAML."""
    base = yaml.safe_load(GOOD_SUITE)
    paths = _paths(base)[1:]
    edit = st.tuples(st.sampled_from(["replace", "delete", "add"]), st.sampled_from(paths), _json_values(), st.text(max_size=8))

    def apply(edits) -> str:
        tree = yaml.safe_load(GOOD_SUITE)
        for kind, path, value, key in edits:
            parent = tree
            for step in path[:-1]:
                try:
                    parent = parent[step]
                except (KeyError, IndexError, TypeError):
                    break
            else:
                last = path[-1]
                if isinstance(parent, dict) and kind == "add":
                    parent[key] = value
                elif isinstance(parent, dict) and last in parent:
                    if kind == "delete":
                        del parent[last]
                    else:
                        parent[last] = value
                elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
                    parent[last] = value
        return yaml.safe_dump(tree, allow_unicode=True)

    return st.lists(edit, min_size=1, max_size=3).map(apply)


def _overrides() -> st.SearchStrategy:
    keys = st.sampled_from(["seed", "name", "prompts.limit", "prompts.source", "models.tiny.params.steps",
                            "models.tiny.sweep.grid.steps", "metrics.pixel_red.channel", "gates.0.min", "gates.5.min",
                            "models.nope.x", "report.plots", "a..b", ""])
    value = st.one_of(st.text(max_size=12), _yamlish(), _json_values().map(json.dumps))
    return st.lists(st.builds(lambda k, v: f"{k}={v}", keys, value), min_size=1, max_size=3).map(tuple)


# ---- prompt files ------------------------------------------------------------------------------

PROMPT_SUFFIXES = (".txt", ".tsv", ".csv", ".json", ".jsonl")


def _load_prompt_bytes(example: tuple[str, bytes], directory: Path) -> None:
    from musebench.prompts.files import load_prompt_file

    suffix, data = example
    load_prompt_file(_write(directory, "p" + suffix, data))


def _prompt_lines() -> st.SearchStrategy:
    line = st.one_of(st.text(max_size=30), st.sampled_from(["Prompt\tCategory\tChallenge\tNote", "Prompts,Category",
                                                             'a "quoted, prompt",Cat', "a\tb\tc\td", "[", "{}", '"x"']))
    ending = st.sampled_from(["\n", "\r\n", "\r", ""])
    lines = st.lists(st.tuples(line, ending).map("".join), max_size=8).map("".join)
    return st.tuples(st.sampled_from(PROMPT_SUFFIXES), lines.map(lambda t: t.encode("utf-8", "surrogatepass")))


def _jsonl_rows() -> st.SearchStrategy:
    scene = st.fixed_dictionaries({"category": st.sampled_from(["colors", "counting", "x"]),
                                   "objects": st.lists(st.dictionaries(st.sampled_from(["shape", "colour", "size"]),
                                                                       st.sampled_from(["circle", "red", "large", 3, None])),
                                                       max_size=2)})
    row = st.one_of(_json_values(), st.fixed_dictionaries({"prompt": st.text(max_size=20)},
                                                          optional={"tag": _json_values(2), "scene": st.one_of(scene, _json_values(3))}))
    rows = st.lists(row, max_size=5).map(lambda rs: "\n".join(json.dumps(r) for r in rs).encode())
    return st.tuples(st.sampled_from([".jsonl", ".json"]), rows)


def _load_coco(data: bytes, directory: Path) -> None:
    from musebench.prompts.coco import load_coco_captions

    load_coco_captions(_write(directory, "captions_val2014.json", data))


def _coco_json() -> st.SearchStrategy:
    image = st.dictionaries(st.sampled_from(["id", "file_name", "coco_url"]),
                            st.one_of(st.integers(0, 3), st.text(max_size=10), st.just("http://x/val2014/a.jpg")))
    ann = st.dictionaries(st.sampled_from(["id", "image_id", "caption"]), st.one_of(st.integers(0, 3), st.text(max_size=10), _json_values(2)))
    doc = st.fixed_dictionaries({"images": st.lists(image, max_size=3), "annotations": st.lists(ann, max_size=4)})
    return st.one_of(doc, _json_values()).map(lambda d: json.dumps(d).encode())


# ---- images ------------------------------------------------------------------------------------

def _png(mode: str, size: tuple[int, int]) -> bytes:
    from PIL import Image

    image = Image.fromarray(np.arange(size[0] * size[1] * 3, dtype=np.uint8).reshape(size[1], size[0], 3) % 251, "RGB").convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _read_image(example: tuple[str, bytes], directory: Path) -> None:
    from musebench.imageio import read_rgb

    suffix, data = example
    read_rgb(_write(directory, "i" + suffix, data))


def _image_bytes() -> st.SearchStrategy:
    seeds = [_png(mode, (5, 4)) for mode in ("RGB", "L", "P", "RGBA", "I;16", "LA", "1")]

    def edit(seed: bytes, edits) -> bytes:
        data = bytearray(seed)
        for at, cut, insert in edits:
            at %= len(data) + 1
            data[at:at + cut] = insert
        return bytes(data)

    byte_edit = st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=8))
    mutated = st.builds(edit, st.sampled_from(seeds), st.lists(byte_edit, min_size=1, max_size=4))
    truncated = st.builds(lambda s, n: s[:n], st.sampled_from(seeds), st.integers(0, 200))
    data = st.one_of(mutated, truncated, st.binary(max_size=64), st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary(max_size=64)))
    return st.tuples(st.sampled_from([".png", ".jpg", ".bmp", ".webp", ".tif"]), data)


TARGETS = (
    Target("suite_yamlish_text", _yamlish(), lambda text, d: _load_suite_text(text, d)),
    Target("suite_char_edits", _char_edits(), lambda text, d: _load_suite_text(text, d)),
    Target("suite_tree_edits", _tree_edits(), lambda text, d: _load_suite_text(text, d)),
    Target("suite_overrides", _overrides(), lambda items, d: _load_suite_text(GOOD_SUITE, d, items)),
    Target("prompt_file_bytes", st.tuples(st.sampled_from(PROMPT_SUFFIXES), st.binary(max_size=200)), _load_prompt_bytes),
    Target("prompt_file_lines", _prompt_lines(), _load_prompt_bytes),
    Target("prompt_file_json_rows", _jsonl_rows(), _load_prompt_bytes),
    Target("coco_captions_json", _coco_json(), _load_coco),
    Target("image_bytes", _image_bytes(), _read_image),
)


def check(target: Target, example: object) -> None:
    """Run one example in a fresh directory: MusebenchError is the only allowed failure."""
    with tempfile.TemporaryDirectory() as directory:
        try:
            target.run(example, Path(directory))
        except MusebenchError as exc:
            assert "\n" not in str(exc), f"a two-line error: {exc!r}"
