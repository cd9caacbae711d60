"""Suite YAML -> a tree of dicts and lists that remembers where every key came from.

Every mapping is a `LocDict` and every list a `LocList`: each knows the file:line of its keys or
items, so that any later error (unknown key, wrong type, bad value) can name file:line. This file
also expands `${VAR:-default}` in string values and resolves `include:` (with cycle detection),
following lm-evaluation-harness' task YAMLs (`include:` of a base file, local keys override), but
failing loudly on anything it cannot read instead of skipping the file.

Reading is bounded, so that no file can make the loader hang or grow memory without bound (issue 23):
a suite file is at most MAX_SUITE_BYTES, nests at most MAX_DEPTH levels, holds at most MAX_VALUES
values counted with every alias expanded (a "billion laughs" file of nine anchors is refused after
a few hundred values, not after 10**9), never refers to itself through an alias, and one load reads
at most MAX_INCLUDED_FILES files. The shipped suites are under 3 KB, 7 levels and 300 values.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from musebench.errors import MusebenchError
from musebench.text_file import decode_utf8, read_capped

MAX_SUITE_BYTES = 1 << 20  # 1 MiB: the shipped suites are < 3 KB; scanning 1 MiB of plain text takes ~2 s
MAX_DEPTH = 32  # nesting levels (mapping in list in mapping ...); the shipped suites use 7
MAX_VALUES = 10_000  # scalars, lists and mappings, aliases expanded; PyYAML composes ~25k values/s
MAX_INCLUDED_FILES = 64  # files read by one load, counting each include of a shared base file


@dataclass(frozen=True)
class Loc:
    """Where a value came from: a file and line, or a `--set` override."""

    file: str
    line: int = 0
    label: str = ""  # for overrides: "--set prompts.limit=8"

    def __str__(self) -> str:
        return self.label if self.label else f"{self.file}:{self.line}"


class LocDict(dict):
    """A YAML mapping; `loc` is the mapping's own place, `locs[key]` each key's place."""

    def __init__(self, loc: Loc):
        super().__init__()
        self.loc = loc
        self.locs: dict[str, Loc] = {}

    def where(self, key: str) -> Loc:
        return self.locs.get(key, self.loc)


class LocList(list):
    """A YAML sequence; `locs[i]` is the place of item i."""

    def __init__(self, loc: Loc):
        super().__init__()
        self.loc = loc
        self.locs: list[Loc] = []

    def where(self, index: int) -> Loc:
        return self.locs[index] if index < len(self.locs) else self.loc


def one_line(text: str) -> str:
    """A key, value or --set item quoted in a message may hold a line break: show it escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def fail(loc: Loc | None, message: str) -> MusebenchError:
    """The one error format of suite problems: `file:line: message`, always one line."""
    return MusebenchError(one_line(f"{loc}: {message}" if loc is not None else message))


# ${VAR} or ${VAR:-default}; the default may be empty.
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# The data roots the shipped suites read: what the folder must hold, quoted when the variable is unset.
KNOWN_VARIABLES = {
    "MUSEBENCH_COCO_ROOT": "to the COCO 2014 folder holding annotations/captions_val2014.json, val2014/*.jpg "
                           "and val2014_256/*.png, built by `musebench reference $MUSEBENCH_COCO_ROOT/val2014 "
                           "--out $MUSEBENCH_COCO_ROOT/val2014_256`",
}


def expand_env(text: str, loc: Loc) -> str:
    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        hint = f" ({KNOWN_VARIABLES[name]})" if name in KNOWN_VARIABLES else ""
        raise fail(loc, f"environment variable {name} is not set; export it{hint} or write ${{{name}:-default}}")

    return _ENV.sub(substitute, text)


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds LocDict/LocList, rejects duplicate keys, expands ${VAR}, and composes
    within MAX_DEPTH and MAX_VALUES (see the module doc)."""

    def __init__(self, stream: str, name: str):
        super().__init__(stream)
        self.name = name
        self._open_anchors: list[str] = []  # anchors of the nodes being composed: an alias to one is a cycle
        self._expanded: dict[int, int] = {}  # id(node) -> its value count with aliases expanded
        self._composed = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        where = Loc(self.name, event.start_mark.line + 1)
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise fail(where, f"alias *{event.anchor} refers to the value that contains it; write the value out")
            return super().compose_node(parent, index)
        self._composed += 1
        if self._composed > MAX_VALUES:
            raise fail(where, f"more than {MAX_VALUES} values in one suite file (MAX_VALUES); split the file or shorten its lists")
        if len(self._open_anchors) >= MAX_DEPTH:
            raise fail(where, f"nested deeper than {MAX_DEPTH} levels (MAX_DEPTH); a suite needs about 7")
        self._open_anchors.append(event.anchor or "")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._open_anchors.pop()
        self._count(node, where)
        return node

    def _count(self, node: yaml.Node, where: Loc) -> None:
        """node's size with every alias expanded: 1 + its children's (an aliased child counts in full)."""
        children = [] if isinstance(node, yaml.ScalarNode) else (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else node.value)
        size = 1 + sum(self._expanded.get(id(child), 1) for child in children)
        if size > MAX_VALUES:
            raise fail(where, f"aliases (*name) expand this value to more than {MAX_VALUES} values (MAX_VALUES); "
                              "a suite never needs that many: write the values out or use fewer aliases")
        self._expanded[id(node)] = size


def _loc(loader: _Loader, node: yaml.Node) -> Loc:
    return Loc(loader.name, node.start_mark.line + 1)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = LocDict(_loc(loader, node))
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        where = _loc(loader, key_node)
        if not isinstance(key, str):
            raise fail(where, f"key {key!r} must be a string; quote it")
        if key in data:
            raise fail(where, f"duplicate key '{key}' (first at line {data.locs[key].line}); keep one")
        data[key] = loader.construct_object(value_node, deep=True)
        data.locs[key] = where


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode):
    data = LocList(_loc(loader, node))
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.locs.append(_loc(loader, item))


def _construct_str(loader: _Loader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # "\ud800": no file name, JSON row or cache key can hold it
        raise fail(_loc(loader, node), f"the string holds a lone surrogate {text[exc.start]!r}, which is not a character; "
                                       "fix the \\u escape") from None
    if "${" not in text:
        return text
    expanded = expand_env(text, _loc(loader, node))
    if node.style is None:  # a plain scalar: `limit: ${N:-8}` is the int 8, as if written out
        value = yaml.safe_load(expanded) if expanded.strip() else None
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
    return expanded


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


class _ValueLoader(_Loader):
    """The same bounds for a `--set` value; no ${VAR} expansion there (the shell already expanded it)."""


_ValueLoader.add_constructor("tag:yaml.org,2002:str", yaml.SafeLoader.construct_yaml_str)


def parse_value(raw: str, label: str) -> object:
    """A `--set` value read as YAML within the suite's bounds; text that is not YAML stays text."""
    try:
        loader = _ValueLoader(raw, label)
    except yaml.YAMLError:  # a control character: not YAML, so text
        return raw
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, RecursionError):
        return raw
    finally:
        loader.dispose()


def read_suite_text(path: Path, label: str) -> str:
    """The file's text, refusing a missing, special, oversized or non-UTF-8 file in one line."""
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "is not a regular file" if path.exists() else "file not found"
        raise MusebenchError(f"{label}: {what}; give the path of a suite .yaml file")
    data = read_capped(path, label, MAX_SUITE_BYTES,
                       f"the suite file is larger than {MAX_SUITE_BYTES // 1024} KiB (MAX_SUITE_BYTES); "
                       "a suite is a few KB of settings: keep prompts in a prompt file (prompts.path)")
    return decode_utf8(data, label, "re-save the suite as UTF-8")


def read_yaml(path: Path, label: str) -> LocDict:
    """One YAML file -> LocDict (the top level must be a mapping)."""
    text = read_suite_text(path, label)
    try:
        loader = _Loader(text, label)
    except yaml.reader.ReaderError as exc:  # PyYAML refuses control characters before parsing
        line = text[: exc.position].count("\n") + 1
        raise MusebenchError(f"{label}:{line}: character U+{exc.character:04X} is not allowed in YAML; remove it") from None
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise MusebenchError(f"{label}:{line}: YAML syntax error: {problem}; fix the YAML") from None
    except yaml.YAMLError as exc:
        raise MusebenchError(f"{label}: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:  # MAX_DEPTH bounds nesting; this is a last guard, never a traceback
        raise MusebenchError(f"{label}: nested too deeply to read; a suite needs about 7 levels") from None
    finally:
        loader.dispose()
    if data is None:
        raise MusebenchError(f"{label}:1: the suite file is empty; start with `version: 1`")
    if not isinstance(data, LocDict):
        raise MusebenchError(f"{label}:1: a suite must be a mapping of keys (version:, models:, ...), got {type(data).__name__}")
    return data


def merge(base: LocDict, override: LocDict) -> LocDict:
    """Deep-merge two mappings: override's keys win; nested mappings merge; lists are replaced."""
    out = LocDict(override.loc)
    for source in (base, override):
        for key, value in source.items():
            if isinstance(value, LocDict) and isinstance(out.get(key), LocDict):
                value = merge(out[key], value)
            out[key] = value
            out.locs[key] = source.where(key)
    return out


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_tree(path: str | Path, _stack: tuple[Path, ...] = (), _reads: list[int] | None = None) -> LocDict:
    """Read a suite file and its includes (depth-first, in order), local keys overriding them."""
    reads = [0] if _reads is None else _reads  # files read by this load, shared by the recursion
    resolved = Path(path).expanduser().resolve()
    label = _display(resolved)
    data = read_yaml(resolved, label)
    includes = data.pop("include", None)
    include_loc = data.locs.pop("include", data.loc)
    if includes is None:
        return data
    names = [includes] if isinstance(includes, str) else includes
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail(include_loc, "include: must be a file name or a list of file names")
    merged = LocDict(data.loc)
    for name in names:
        target = _include_target(resolved, name, include_loc)
        if target in _stack or target == resolved:
            cycle = " -> ".join(_display(p) for p in (*_stack, resolved, target))
            raise fail(include_loc, f"include cycle: {cycle}; remove one of these includes")
        reads[0] += 1
        if reads[0] > MAX_INCLUDED_FILES:
            raise fail(include_loc, f"the includes read more than {MAX_INCLUDED_FILES} files (MAX_INCLUDED_FILES); "
                                    "include each base file once")
        merged = merge(merged, load_tree(target, (*_stack, resolved), reads))
    return merge(merged, data)


def _include_target(including: Path, name: str, loc: Loc) -> Path:
    """The included file's resolved path, next to the file that includes it; it must exist."""
    try:
        target = (including.parent / expand_env(name, loc)).resolve()
        found = target.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        target, found = None, False
    if not found:
        looked = f" (looked at {_display(target)})" if target is not None else ""
        raise fail(loc, f"included file {name!r} not found{looked}; fix the path")
    return target
