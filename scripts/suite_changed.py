#!/usr/bin/env python3
"""Exit 0 when a suite (with `musebench run`'s --limit / --set) no longer matches a finished run.

    python scripts/suite_changed.py SUITE RUN_DIR/run.json [--limit N] [--set KEY=VALUE ...]

Compares the resolved suite's hash (musebench.suite.suite_hash: every value that can change a
number, not the comments) with run.json's `suite_hash`. Exit 0: changed or no readable run.json
(run it again); 1: unchanged; 2: the suite itself is bad (the one-line error on stderr).
scripts/make_reports.sh uses it to rerun only the suites whose protocol changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("run_json", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    from musebench.errors import MusebenchError
    from musebench.suite import load_suite
    from musebench.suite.load import suite_hash

    try:
        current = suite_hash(load_suite(args.suite, args.overrides, args.limit))
    except MusebenchError as exc:
        print(f"suite_changed: {exc}", file=sys.stderr)
        return 2
    try:
        previous = json.loads(args.run_json.read_text(encoding="utf-8")).get("suite_hash")
    except (OSError, json.JSONDecodeError):
        return 0
    return 0 if current != previous else 1


if __name__ == "__main__":
    sys.exit(main())
