"""`musebench` command line: one module per subcommand, listed explicitly below.

Each module `musebench/cli/cmd_<name>.py` defines:
    DESCRIPTION: str                       # shown by `musebench <name> --help`
    EPILOG: str                            # examples, shown by `musebench <name> --help`
    def add_arguments(parser) -> None
    def run(args) -> int                   # exit code: 0 ok, 1 gate failed
Only the chosen subcommand's module is imported, so `musebench --help` stays fast.

Exit codes: 0 ok, 1 a gate failed, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from musebench.errors import GateFailed, MusebenchError

# name -> (module, one-line summary). Explicit registry: no import-time side effects.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("musebench.cli.cmd_run", "run a suite: generate what is not cached, compute metrics"),
    "validate": ("musebench.cli.cmd_validate", "check suite files without running them"),
    "ls": ("musebench.cli.cmd_ls", "list suites, adapters, metrics and shipped models"),
    "generate": ("musebench.cli.cmd_generate", "generate images for a prompts.jsonl with one model"),
    "report": ("musebench.cli.cmd_report", "tables, plots and an HTML page from run directories"),
    "gate": ("musebench.cli.cmd_gate", "compare a run with a baseline; exit 1 on regression"),
    "compare": ("musebench.cli.cmd_compare", "two runs on the same prompts, paired: McNemar, bootstrap, Holm"),
    "cache": ("musebench.cli.cmd_cache", "inspect the generation cache: stats, verify, prune"),
    "shapes": ("musebench.cli.cmd_shapes", "the shapes world: render prompts and score images"),
    "metrics": ("musebench.cli.cmd_metrics", "compute FID/KID/PRDC/CMMD/Vendi/CLIP score on image folders"),
    "reference": ("musebench.cli.cmd_reference", "build a FID reference folder: centre crop + resize real images"),
    "bench": ("musebench.cli.cmd_bench", "latency benchmark of a model with a calibration workload"),
    "power": ("musebench.cli.cmd_power", "images needed to detect a drop (or the drop N images detect)"),
}

EXAMPLES = """examples:
  musebench run suites/quickstart.yaml            # the embedded default, ends with its report path
  musebench run suites/steps_sweep.yaml --limit 8 --set seed=1
  musebench validate suites/*.yaml
  musebench shapes render --split val --n 100 --out /tmp/val
  musebench generate --model muse-shapes --prompts /tmp/val/prompts.jsonl --out /tmp/gen
  musebench shapes score /tmp/gen
  musebench gate runs/quickstart --baseline reports/baselines/quickstart.jsonl
"""


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {summary}" for name, (_, summary) in COMMANDS.items())
    return argparse.ArgumentParser(
        prog="musebench",
        description="Evaluate and benchmark text-to-image models.",
        epilog=f"commands:\n{lines}\n\n{EXAMPLES}\nRun `musebench COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="musebench COMMAND [options]",
    )


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line like every other bad input (exit 2, no usage dump):
    `musebench: error: musebench gate: the following arguments are required: RUN_DIR; see --help`."""

    def error(self, message: str):
        raise MusebenchError(f"{self.prog}: {message}; see `{self.prog} --help`")


def _command_parser(name: str, module) -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=f"musebench {name}",
        description=module.DESCRIPTION,
        epilog=module.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(parser)
    return parser


def _fail(message: str) -> int:
    print(f"musebench: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        _top_parser().print_help()
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from musebench import __version__

        print(f"musebench {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return _fail(f"unknown command '{name}'{hint}; commands: {', '.join(COMMANDS)}")
    module = importlib.import_module(COMMANDS[name][0])
    parser = _command_parser(name, module)
    try:
        args = parser.parse_args(argv[1:])  # argparse itself exits 2 on bad flags
        return int(module.run(args) or 0)
    except GateFailed as exc:
        print(f"musebench: gate failed: {exc}", file=sys.stderr)
        return 1
    except MusebenchError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("musebench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `musebench ls | head`: the reader has what it wanted; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at flush
        return 0
    except Exception as exc:  # reference_model's input errors are one line too
        from reference_model.errors import ReferenceModelError

        if isinstance(exc, ReferenceModelError):
            return _fail(str(exc))
        raise


def console_main() -> None:
    """The `musebench` executable: main(), then exit without the interpreter's teardown.

    Finalising the imported torch, transformers, open_clip and matplotlib modules takes ~1 s of
    this CPU after the work is done (measured: `import torch, transformers...` then a normal exit
    vs os._exit). Every file musebench writes is complete and closed before main() returns (atomic
    writes, the cache index closed by the runner, torch.distributed torn down by the runner), so
    only Python's own buffers remain: they are flushed here. Callers of main() in-process (tests,
    notebooks) keep the normal exit.
    """
    code = main()
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `musebench ... | head` closed the pipe; a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    console_main()
