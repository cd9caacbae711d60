"""Suite YAML -> a tree of dicts and lists that remembers where every key came from.

Every mapping is a `LocDict` and every list a `LocList`: each knows the file:line of its keys or
items, so that any later error (unknown key, wrong type, bad value) can name file:line. This file
also expands `${VAR:-default}` in string values and resolves `include:` (with cycle detection),
following lm-evaluation-harness' task YAMLs (`include:` of a base file, local keys override), but
failing loudly on anything it cannot read instead of skipping the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from musebench.errors import MusebenchError


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


def fail(loc: Loc | None, message: str) -> MusebenchError:
    """The one error format of suite problems: `file:line: message`."""
    return MusebenchError(f"{loc}: {message}" if loc is not None else message)


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
    """SafeLoader that builds LocDict/LocList, rejects duplicate keys and expands ${VAR}."""


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


def read_yaml(path: Path, label: str) -> LocDict:
    """One YAML file -> LocDict (the top level must be a mapping)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MusebenchError(f"{label}: file not found; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MusebenchError(f"{label}: cannot read ({exc.__class__.__name__}: {exc}); check its permissions and encoding") from None
    loader = _Loader(text)
    loader.name = label
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise MusebenchError(f"{label}:{line}: YAML syntax error: {problem}; fix the YAML") from None
    except yaml.YAMLError as exc:
        raise MusebenchError(f"{label}: YAML error: {' '.join(str(exc).split())}") from None
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


def load_tree(path: str | Path, _stack: tuple[Path, ...] = ()) -> LocDict:
    """Read a suite file and its includes (depth-first, in order), local keys overriding them."""
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
        target = (resolved.parent / expand_env(name, include_loc)).resolve()
        if target in _stack or target == resolved:
            cycle = " -> ".join(_display(p) for p in (*_stack, resolved, target))
            raise fail(include_loc, f"include cycle: {cycle}; remove one of these includes")
        if not target.is_file():
            raise fail(include_loc, f"included file '{name}' not found (looked at {_display(target)}); fix the path")
        merged = merge(merged, load_tree(target, (*_stack, resolved)))
    return merge(merged, data)
