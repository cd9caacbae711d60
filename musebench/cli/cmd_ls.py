"""`musebench ls [WHAT]`: the suites, adapters, metrics, prompt sources and shipped models."""

from __future__ import annotations

from pathlib import Path

DESCRIPTION = """\
List what a suite can name: suites in a directory, adapters, metrics, prompt sources, shipped
models.
"""
EPILOG = """examples:
  musebench ls                     # everything
  musebench ls suites --dir suites
  musebench ls adapters
  musebench ls metrics
"""
WHAT = ("suites", "adapters", "metrics", "sources", "models")


def add_arguments(parser) -> None:
    parser.add_argument("what", nargs="?", choices=WHAT, help="one list (default: all)")
    parser.add_argument("--dir", default="suites", help="where to look for suites (default ./suites)")


def _installed(module: str) -> str:
    import importlib.util

    try:
        return "" if importlib.util.find_spec(module) is not None else "  (not installed yet)"
    except ModuleNotFoundError:
        return "  (not installed yet)"


def _suites(directory: str) -> list[str]:
    from musebench.errors import MusebenchError
    from musebench.suite import load_suite

    lines = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            suite = load_suite(path)
            lines.append(f"{path}  {suite.name}: {', '.join(m.name for m in suite.models)}; {suite.description}".rstrip("; "))
        except MusebenchError as exc:
            lines.append(f"{path}  INVALID: {exc}")
    return lines or [f"(no *.yaml in {directory})"]


def _section(what: str, directory: str) -> list[str]:
    if what == "suites":
        return _suites(directory)
    if what == "adapters":
        from musebench.models.registry import ADAPTERS

        return [f"{name:<10} {target}{_installed(target.split(':')[0])}" for name, target in ADAPTERS.items()]
    if what == "metrics":
        from musebench.metrics.registry import METRICS

        return [f"{name:<10} {module}{_installed(module)}" for name, module in METRICS.items()]
    if what == "sources":
        from musebench.prompts.registry import SOURCES

        return [f"{name:<10} {target}{_installed(target.split(':')[0])}" for name, target in SOURCES.items()]
    from musebench.models.checkpoints import SHIPPED_DIR, shipped_names

    return [f"{name:<14} {SHIPPED_DIR / name}" for name in shipped_names()] or ["(no shipped checkpoints yet)"]


def run(args) -> int:
    for what in [args.what] if args.what else WHAT:
        if not args.what:
            print(f"{what}:")
        for line in _section(what, args.dir):
            print(f"  {line}" if not args.what else line)
    return 0
