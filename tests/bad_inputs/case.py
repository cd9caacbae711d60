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
class Case:
    argv: tuple[str, ...]  # musebench's arguments, placeholders allowed
    expect: str  # a substring of the one error line
    files: dict[str, str | bytes | Callable[[], bytes]] = field(default_factory=dict)  # name in {tmp} -> content
    tiny_registry: bool = True  # register the tests' tiny adapter and metric (runner_support.tiny_registry)
