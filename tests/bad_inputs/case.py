"""One bad input of the corpus: a command line, the files it needs, and the words its error must hold.

Every case runs `musebench ARGV` in a fresh temporary directory (the working directory, `{tmp}` in
ARGV) with MUSEBENCH_CACHE pointing inside it, and must end with exit code 2, exactly one line on
stderr starting `musebench: error: `, that line containing `expect`, no traceback, and the
directory unchanged: nothing written, not even an empty output folder or a cache index
(tests/test_bad_inputs.py). benchmarks/bad_inputs.py runs the same cases in fresh processes and
records each one's peak memory.

Placeholders in ARGV and in `files` text: {tmp} the case's directory, {files} the committed corpus
folder tests/bad_inputs/files/, {suite} a good tiny suite written to {tmp}/s.yaml (runner_support.TINY_SUITE).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FILES = Path(__file__).resolve().parent / "files"


@dataclass(frozen=True)
class Sparse:
    """A file of `size` zero bytes that takes no disk (a hole): for size limits of gigabytes."""

    size: int


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # musebench's arguments, placeholders allowed
    expect: str  # a substring of the one error line
    files: dict[str, str | bytes | Callable[[], bytes] | Sparse] = field(default_factory=dict)  # name in {tmp} -> content
    tiny_registry: bool = True  # register the tests' tiny adapter and metric (runner_support.tiny_registry)


def good_suite() -> str:
    """The text behind {suite}: the runner tests' tiny suite, 2 prompts x 2 images, batch 4."""
    from runner_support import TINY_SUITE

    return TINY_SUITE.format(batch_size=4, limit=2)


def substitute(text: str, tmp: Path) -> str:
    """Fill the placeholders (plain replacement: YAML braces stay as written)."""
    return text.replace("{tmp}", str(tmp)).replace("{files}", str(FILES)).replace("{suite}", str(tmp / "s.yaml"))


def materialize(case: Case, tmp: Path) -> list[str]:
    """Write the case's files (and the good suite where {suite} is used) into tmp; return the argv."""
    if any("{suite}" in a for a in case.argv) or any(isinstance(c, str) and "{suite}" in c for c in case.files.values()):
        (tmp / "s.yaml").write_text(good_suite())
    for name, content in case.files.items():
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Sparse):
            with path.open("wb") as f:
                f.truncate(content.size)
            continue
        data = content() if callable(content) else content
        path.write_bytes(data if isinstance(data, bytes) else substitute(data, tmp).encode())
    return [substitute(a, tmp) for a in case.argv]


def snapshot(root: Path) -> dict[str, int | None]:
    """Every path below root -> its size (None for a directory): what 'nothing written' compares."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.stat().st_size) for p in sorted(root.rglob("*"))}


def collect() -> dict[str, Case]:
    """Every cases_*.py's CASES (a dict id -> Case, or a list), ids prefixed by the file: 'suites/yaml_syntax'."""
    import importlib

    found: dict[str, Case] = {}
    for path in sorted(Path(__file__).resolve().parent.glob("cases_*.py")):
        module = importlib.import_module(f"bad_inputs.{path.stem}")
        cases = module.CASES
        items = cases.items() if isinstance(cases, dict) else ((str(i), c) for i, c in enumerate(cases))
        area = path.stem.removeprefix("cases_")
        for key, case in items:
            found[f"{area}/{key}"] = case
    return found
