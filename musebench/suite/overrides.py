"""`--set key=value` and `--limit N`: change a loaded suite tree before it is validated.

Keys are dotted paths through the suite (`prompts.limit`, `models.muse.params.steps`,
`metrics.fid.extractor`, `gates.0.min`); models and metrics are addressed by their names. The
value is typed by the schema when the suite is parsed (see typecheck.Override), so the same
checks and messages apply as for the file itself.
"""

from __future__ import annotations

import yaml

from musebench.errors import MusebenchError
from musebench.suite.source import Loc, LocDict, LocList, one_line, parse_value
from musebench.suite.typecheck import Override, did_you_mean

NAMED_SECTIONS = ("models", "metrics")  # mappings whose keys the user chose: never created by --set


def _read_value(raw: str, loc: Loc):
    return _wrap(parse_value(raw, str(loc)) if raw.strip() else None, raw, loc)


def _wrap(parsed, raw: str, loc: Loc):
    """The parsed value as the tree the suite file would give: lists and mappings of Override scalars."""
    if isinstance(parsed, list):
        out = LocList(loc)
        for item in parsed:
            out.append(_wrap(item, _text(item), loc))
            out.locs.append(loc)
        return out
    if isinstance(parsed, dict):
        out = LocDict(loc)
        for key, item in parsed.items():
            out[str(key)] = _wrap(item, _text(item), loc)
            out.locs[str(key)] = loc
        return out
    return Override(raw, parsed)


def _text(item) -> str:
    """A scalar item's YAML text (the raw text a str field takes); containers are walked, not written."""
    if isinstance(item, (list, dict)):
        return ""
    return yaml.safe_dump(item).strip().removesuffix("...").strip()


def _step(node, segment: str, path: list[str], depth: int, loc: Loc, create: bool):
    if isinstance(node, LocList):
        if not segment.isdigit() or int(segment) >= len(node):
            raise MusebenchError(f"{loc}: '{'.'.join(path[:depth])}' is a list of {len(node)}; use an index 0..{len(node) - 1}")
        return node, int(segment)
    if not isinstance(node, LocDict):
        raise MusebenchError(f"{loc}: '{'.'.join(path[:depth])}' is a single value, not a section")
    if segment not in node and depth == 1 and path[0] in NAMED_SECTIONS:
        raise MusebenchError(f"{loc}: no {path[0][:-1]} '{segment}' in this suite{did_you_mean(segment, node)}; known: {', '.join(node)}")
    if segment not in node and create:
        node[segment] = LocDict(loc)
        node.locs[segment] = loc
    return node, segment


def apply_override(tree: LocDict, item: str, flag: str = "--set") -> None:
    loc = Loc(flag, 0, one_line(f"{flag} {item}"))
    key, sep, raw = item.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise MusebenchError(f"{loc}: expected KEY=VALUE with a dotted KEY, e.g. --set prompts.limit=8")
    node = tree
    for depth, segment in enumerate(path[:-1]):
        container, index = _step(node, segment, path, depth, loc, create=True)
        node = container[index]
    container, index = _step(node, path[-1], path, len(path) - 1, loc, create=False)
    container[index] = _read_value(raw, loc)
    container.locs[index] = loc


def apply_overrides(tree: LocDict, items: list[str]) -> LocDict:
    for item in items:
        apply_override(tree, item)
    return tree
