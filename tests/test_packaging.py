"""The wheel holds the library (musebench, reference_model) and no training code: recipes/ runs from a
clone (`python -m recipes.<name>`) and is never installed."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def packaged() -> list[str]:
    """The packages setuptools puts in the wheel: pyproject's [tool.setuptools.packages.find], which
    (namespaces = true, the pyproject default) is find_namespace_packages over the repository root."""
    from setuptools import find_namespace_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert find.get("namespaces", True) and find.get("where", ["."]) == ["."]
    return find_namespace_packages(str(ROOT), include=find["include"], exclude=find.get("exclude", ()))


def test_package_discovery_leaves_the_recipes_out():
    assert (ROOT / "recipes" / "__init__.py").is_file()  # a package setuptools would find, were it not excluded
    packages = packaged()
    assert {p.split(".")[0] for p in packages} == {"musebench", "reference_model"}
    assert {"musebench.cli", "musebench.models", "reference_model.ldm"} <= set(packages)  # not vacuous
    assert not [p for p in packages if p.split(".")[:2] == ["musebench", "train"]]


def _imports_recipes(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
        if any(n.split(".")[0] == "recipes" for n in names):
            return True
    return False


@pytest.mark.slow  # copies the checkout and builds the wheel (~20 s on 2 cores)
def test_the_built_wheel_holds_no_training_code(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to copy the tree")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    src = tmp_path / "src"  # a copy: the build writes build/ and *.egg-info beside the sources
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel")], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("musebench-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {n: archive.read(n).decode() for n in names if n.endswith(".py")}
    assert {n.split("/")[0] for n in names} == {"musebench", "reference_model", f"{wheel.name.split('-py3')[0]}.dist-info"}
    assert "musebench/cli/main.py" in names and "musebench/checkpoints/muse-shapes/model.safetensors" in names
    assert not [n for n in names if n.startswith(("recipes/", "musebench/train/"))]
    assert [n for n, text in sources.items() if _imports_recipes(text)] == []
