"""docs/architecture.md names only things that exist: every file and folder path, and every dotted
`musebench.x.y` / `reference_model.x.y` name written in backticks.

Paths are read from the whole page (prose and the diagram):
- a path starting with a repository folder (`musebench/`, `tests/`, `docs/`, ...) or with a
  musebench package (`runner/`, `cache/`, ...) must exist under the repository root or under
  musebench/, exactly as written (a folder when it ends with "/");
- a bare file name (`plan.py`) must be the name of some file in the repository.
Runtime paths are not repository paths and are skipped: anything written after `<...>/`,
`RUN_DIR/` or another folder that is not in the lists below (`images/`, `claims/`, `features/`).
A dotted name in backticks must resolve to a module file, then to a top-level definition of it
(def, class, assignment or import), then optionally to a member of that class, read with `ast`
so nothing is imported.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
REPO_FOLDERS = ("musebench", "reference_model", "recipes", "tests", "docs", "benchmarks", "suites", "scripts")
PACKAGES = tuple(sorted(p.name for p in (ROOT / "musebench").iterdir() if (p / "__init__.py").is_file()))
# `runner/run.py`, `musebench/cache/`, `tests/test_import_graph.py`; not `RUN_DIR/features/` or `<cache>/x`
PATH = re.compile(r"(?<![\w./<>$~*-])((?:%s)/[\w./-]*)" % "|".join(REPO_FOLDERS + PACKAGES + ("checkpoints",)))
BARE = re.compile(r"(?<![\w./<>$~*-])([\w-]+\.(?:py|md|toml|yaml))\b")
DOTTED = re.compile(r"`((?:musebench|reference_model)(?:\.\w+)+)`")


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def paths(text: str) -> list[str]:
    return sorted({m.group(1).rstrip(".") for m in PATH.finditer(text)})


def bare_names(text: str) -> list[str]:
    return sorted({m.group(1) for m in BARE.finditer(text)})


def dotted_names(text: str) -> list[str]:
    return sorted(set(DOTTED.findall(text)))


def path_exists(ref: str) -> bool:
    for base in (ROOT, ROOT / "musebench"):
        target = base / ref
        if (target.is_dir() if ref.endswith("/") else target.exists()):
            return True
    return False


@lru_cache(maxsize=1)
def _repo_file_names() -> frozenset[str]:
    return frozenset(p.name for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts)


def _defined(tree: ast.Module | ast.ClassDef, name: str):
    """The node that defines `name` at the top level of `tree` (a module or a class), or None."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any((a.asname or a.name.split(".")[0]) == name for a in node.names):
            return node
    return None


def dotted_exists(ref: str) -> bool:
    """`musebench.plan` (a module), `musebench.plan.image_seed` (a definition in it), or
    `musebench.models.declared.Declared.typed` (a member of a class defined in it)."""
    parts = ref.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if module.is_file():
            rest = parts[cut:]
            break
    else:
        return False
    node = ast.parse(module.read_text(encoding="utf-8"))
    for name in rest:
        if not isinstance(node, (ast.Module, ast.ClassDef)):
            return False
        node = _defined(node, name)
        if node is None:
            return False
    return True


def test_every_path_the_doc_names_exists():
    missing = [ref for ref in paths(_text()) if not path_exists(ref)]
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_bare_file_name_is_a_file_of_the_repository():
    missing = [name for name in bare_names(_text()) if name not in _repo_file_names()]
    assert missing == [], f"docs/architecture.md names files that do not exist: {missing}"


def test_every_dotted_name_in_backticks_exists():
    missing = [ref for ref in dotted_names(_text()) if not dotted_exists(ref)]
    assert missing == [], f"docs/architecture.md names modules or symbols that do not exist: {missing}"


def test_every_musebench_package_is_described():
    text = _text()
    absent = [name for name in PACKAGES if f"**{name}/**" not in text]
    assert absent == [], f"docs/architecture.md has no paragraph for musebench packages: {absent}"


def test_the_checks_see_what_the_doc_names():
    # a reader of the doc that found nothing would pass every test above vacuously
    text = _text()
    assert {"cache/store.py", "musebench/checkpoints/", "tests/test_import_graph.py", "reference_model/atomic_file.py"} <= set(paths(text))
    assert "plan.py" in bare_names(text)
    assert "musebench.plan.image_seed" in dotted_names(text)


def test_a_removed_file_or_symbol_is_caught():
    assert not path_exists("runner/no_such_module.py")
    assert path_exists("musebench/cache/") and path_exists("runner/run.py")
    assert not path_exists("musebench/plan.py/")  # a file written as a folder
    assert not dotted_exists("musebench.plan.no_such_function")
    assert not dotted_exists("musebench.models.declared.Declared.no_such_method")
    assert not dotted_exists("musebench.no_such_module")
    assert paths("see `runner/gone.py`, RUN_DIR/features/ and <cache>/features/describe/") == ["runner/gone.py"]
