"""A fork server for the crash tests: imports musebench and torch once, then forks one CLI run per
request, so that killing and restarting a run costs milliseconds instead of a Python start-up.

The server only imports: it never runs a torch op, a tqdm bar or an SQLite query, so no lock is
held when it forks (forking a process that has done such work can deadlock the child: torch's
and tqdm's locks), and each child starts from the state `python -m musebench` would have. Protocol on
stdin/stdout, one JSON line per request: {"op": "start", "argv": [...], "log": path or null} -> pid;
{"op": "wait", "pid": N} -> exit code (negative: killed by that signal). A child's stdout and stderr
go to its log (default /dev/null), with the traceback of an uncaught exception (exit code 3), so a
test that sees 3 can say why.
"""

import json
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny_cli  # noqa: E402,F401  (registers the tiny adapter and metric)
import tiny_adapter  # noqa: E402,F401
import tiny_metric  # noqa: E402,F401
import musebench.cli.cmd_cache  # noqa: E402,F401
import musebench.cli.cmd_run  # noqa: E402,F401
import musebench.runner  # noqa: E402,F401
import musebench.shapes  # noqa: E402,F401
from musebench.cli.main import main  # noqa: E402


def _child(argv: list[str], log: str | None) -> None:
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    out = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for fd in (1, 2):
        os.dup2(out, fd)
    try:
        code = main(argv)
    except BaseException:
        traceback.print_exc()
        code = 3
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(request["argv"], request.get("log"))
            print(pid, flush=True)
        elif request["op"] == "wait":
            _, status = os.waitpid(request["pid"], 0)
            print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve()
