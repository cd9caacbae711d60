"""Bad `musebench cache` inputs: a mistyped or non-cache directory is refused in one line and
nothing is created there (issue 23: `cache stats` and `cache verify` used to make a cache at any
path); prune's options are checked before anything is removed."""

from __future__ import annotations

from bad_inputs.case import Case

NOT_HERE = "no musebench cache here"
INDEX_GARBAGE = b"this is not an SQLite database\n" * 4


def _cache(action: str, where: str | None, expect: str, files: dict | None = None, *extra: str) -> Case:
    """`musebench cache ACTION [--cache WHERE]` (None: $MUSEBENCH_CACHE, set by the harness to {tmp}/cache-env)."""
    flag = () if where is None else ("--cache", where)
    return Case(argv=("cache", action, *flag, *extra), expect=expect, files=files or {}, tiny_registry=False)


CASES: dict[str, Case] = {
    "stats_mistyped_path": _cache("stats", "{tmp}/cahce", f"{NOT_HERE} (no index.sqlite; from --cache)"),
    "verify_mistyped_path": _cache("verify", "{tmp}/cahce", f"{NOT_HERE} (no index.sqlite; from --cache)"),
    "prune_mistyped_path": _cache("prune", "{tmp}/cahce", NOT_HERE),
    "stats_nested_missing_path": _cache("stats", "{tmp}/a/b/c", "a/b/c: no musebench cache here"),
    "stats_env_path_missing": _cache("stats", None, "cache-env: no musebench cache here (no index.sqlite; from MUSEBENCH_CACHE)"),
    "verify_env_path_missing": _cache("verify", None, "from MUSEBENCH_CACHE"),
    "verify_directory_not_a_cache": _cache("verify", "{tmp}/photos", NOT_HERE, {"photos/cat.png": b"\x89PNG\r\n"}),
    "stats_path_is_a_file": _cache("stats", "{tmp}/notes.txt", "notes.txt: exists and is not a directory", {"notes.txt": "x"}),
    "verify_index_not_sqlite": _cache("verify", "{tmp}/c", "cannot open (file is not a database)", {"c/index.sqlite": INDEX_GARBAGE}),
    "stats_with_prune_flag": _cache("stats", "{tmp}/c", "--older-than: only `musebench cache prune` takes it", {}, "--older-than", "3"),
    "prune_negative_age": _cache("prune", "{tmp}/c", "--older-than -1.0: expected a finite number of days >= 0", {}, "--older-than", "-1"),
    "prune_nan_age": _cache("prune", "{tmp}/c", "--older-than nan: expected a finite number of days >= 0", {}, "--older-than", "nan"),
}
