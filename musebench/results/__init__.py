"""The results format, in one place: what `musebench run` writes and gate, report and compare read.

    write_run(out_dir, rows, run_info)       # runner: results.jsonl + items.jsonl + run.json
    run = load_run("runs/quickstart")        # RunData: rows (ResultRow, with .items), run.json
    read_items(run.run_dir, run.rows[0])     # {"<prompt index>/<seed>": value} of one row

Schema versions (docs/results.md): 1 = results.jsonl + run.json without a version (read as is);
2 = per-item outcomes in items.jsonl, `"results_schema": 2` in run.json. A newer one is refused.
"""

from musebench.results.items import ITEMS_FILE, item_key, read_items, repeat_key
from musebench.results.run_dir import RESULTS_FILE, RUN_FILE, RunData, load_run, results_line, write_run
from musebench.results.schema import SCHEMA_VERSION, ResultRow, format_params, parse_row, parse_rows, read_jsonl

__all__ = [
    "ITEMS_FILE",
    "RESULTS_FILE",
    "RUN_FILE",
    "SCHEMA_VERSION",
    "ResultRow",
    "RunData",
    "format_params",
    "item_key",
    "load_run",
    "parse_row",
    "parse_rows",
    "read_items",
    "read_jsonl",
    "repeat_key",
    "results_line",
    "write_run",
]
