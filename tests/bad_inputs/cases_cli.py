"""Bad command lines and bad run directories for gate, report, compare, power, bench, shapes,
metrics and the top level: one line each (argparse's own errors included), nothing written.
{files}/run_tiny is a finished tiny run (results.jsonl + run.json) read in place; cases that could
write into a run directory copy it into {tmp} first."""

from __future__ import annotations

import json

from bad_inputs.case import FILES, Case

RUN = FILES / "run_tiny"
BASELINE = FILES / "baseline_tiny.jsonl"


def _text(path) -> str:
    return path.read_text()


def _run_copy(prefix: str = "run", results: str | None = None, run_json: str | None = None) -> dict:
    """A copy of the tiny run under {tmp}/<prefix>, with results.jsonl or run.json replaced."""
    return {f"{prefix}/results.jsonl": results if results is not None else _text(RUN / "results.jsonl"),
            f"{prefix}/run.json": run_json if run_json is not None else _text(RUN / "run.json")}


def _first_result(change) -> str:
    lines = _text(RUN / "results.jsonl").splitlines()
    row = json.loads(lines[0])
    change(row)
    return "\n".join([json.dumps(row), *lines[1:]]) + "\n"


def _baseline_with(change) -> str:
    lines = _text(BASELINE).splitlines()
    row = json.loads(lines[1])
    change(row)
    return "\n".join([lines[0], json.dumps(row), *lines[2:]]) + "\n"


def _gate(*argv: str, files: dict | None = None, expect: str) -> Case:
    return Case(argv=("gate", *argv), expect=expect, files=files or {}, tiny_registry=False)


CASES: dict[str, Case] = {
    # top level and argparse
    "no_command_flag": Case(("--bogus",), "unknown command '--bogus'", tiny_registry=False),
    "unknown_command": Case(("rnu",), "unknown command 'rnu' (did you mean 'run'?)", tiny_registry=False),
    "run_without_suite": Case(("run",), "musebench run: the following arguments are required: suite", tiny_registry=False),
    "run_unknown_flag": Case(("run", "{suite}", "--outt", "x"), "unrecognized arguments: --outt x"),
    "run_limit_not_int": Case(("run", "{suite}", "--limit", "ten"), "argument --limit: invalid int value: 'ten'"),
    "run_limit_negative": Case(("run", "{suite}", "--limit", "-3", "--out", "{tmp}/run"), "prompts: limit must be >= 1"),
    "run_shard_garbage": Case(("run", "{suite}", "--shard", "a/b", "--out", "{tmp}/run"), "--shard a/b: expected I/N"),
    # gate
    "gate_no_run_dir": _gate("{tmp}/nowhere", expect="nowhere"),
    "gate_empty_dir": _gate("{tmp}/empty", files={"empty/.keep": ""}, expect="results.jsonl"),
    "gate_binary_baseline": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl", files={"b.jsonl": bytes(range(256)) * 4},
                                  expect="b.jsonl:1: not UTF-8 text"),
    "gate_empty_baseline": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl", files={"b.jsonl": ""}, expect="baseline file is empty"),
    "gate_missing_baseline": _gate(str(RUN), "--baseline", "{tmp}/none.jsonl", expect="none.jsonl: baseline file not found"),
    "gate_baseline_is_dir": _gate(str(RUN), "--baseline", "{tmp}/d", files={"d/x": ""}, expect="baseline file not found"),
    "gate_baseline_not_json": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl", files={"b.jsonl": "{oops\n"}, expect="b.jsonl:1: malformed JSON"),
    "gate_baseline_nan_value": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl",
                                     files={"b.jsonl": lambda: _baseline_with(lambda r: r.update(value=float("nan"))).encode()},
                                     expect="b.jsonl:2: pixel_mean/all of tiny is nan, not a computed value"),
    "gate_baseline_string_value": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl",
                                        files={"b.jsonl": lambda: _baseline_with(lambda r: r.update(value="0.5")).encode()},
                                        expect="b.jsonl:2: key 'value' must be a number"),
    "gate_baseline_deep_nesting": _gate(str(RUN), "--baseline", "{tmp}/b.jsonl", files={"b.jsonl": "[" * 100_000 + "\n"},
                                        expect="b.jsonl:1: malformed JSON"),
    "gate_results_nan_baseline_write": _gate("{tmp}/run", "--write-baseline", "{tmp}/new.jsonl",
                                             files=_run_copy(results=_first_result(lambda r: r.update(value=float("nan")))),
                                             expect="is nan, not a computed value; a baseline must be recorded from a run"),
    "gate_results_malformed": _gate("{tmp}/run", files=_run_copy(results="not json\n"), expect="results.jsonl:1: malformed JSON"),
    "gate_run_json_garbage": _gate("{tmp}/run", files=_run_copy(run_json="[1, 2"), expect="run.json"),
    "gate_junit_into_file": _gate(str(RUN), "--junit", "{tmp}/afile/x.xml", files={"afile": "x"}, expect="afile"),
    # report
    "report_no_run_dir": Case(("report", "{tmp}/nowhere"), "nowhere", tiny_registry=False),
    "report_two_runs_no_out": Case(("report", str(RUN), str(RUN)), "--out", tiny_registry=False),
    "report_results_malformed": Case(("report", "{tmp}/run"), "results.jsonl:1: malformed JSON",
                                     files=_run_copy(results="{]\n"), tiny_registry=False),
    "report_binary_results": Case(("report", "{tmp}/run"), "not UTF-8 text", files=_run_copy(results=b"\xff\xfe\x00" * 50),
                                  tiny_registry=False),
    # compare
    "compare_missing_run": Case(("compare", str(RUN), "{tmp}/nowhere"), "nowhere", tiny_registry=False),
    "compare_without_items": Case(("compare", str(RUN), str(RUN)), "no per-item outcomes", tiny_registry=False),
    "compare_one_run": Case(("compare", str(RUN)), "musebench compare: the following arguments are required", tiny_registry=False),
    # power
    "power_rate_above_one": Case(("power", "--rate", "1.5", "--drop", "0.1"), "--rate", tiny_registry=False),
    "power_rate_nan": Case(("power", "--rate", "nan", "--drop", "0.1"), "--rate", tiny_registry=False),
    "power_drop_inf": Case(("power", "--rate", "0.8", "--drop", "inf"), "--drop", tiny_registry=False),
    "power_n_zero": Case(("power", "--rate", "0.8", "--n", "0"), "--n", tiny_registry=False),
    "power_alpha_zero": Case(("power", "--rate", "0.8", "--drop", "0.1", "--alpha", "0"), "--alpha", tiny_registry=False),
    "power_both_modes": Case(("power", "--rate", "0.8", "--drop", "0.1", "--n", "50"), "not allowed with argument", tiny_registry=False),
    # bench
    "bench_unknown_model": Case(("bench", "--model", "muse-shapez"), "muse-shapez", tiny_registry=False),
    "bench_repeats_zero": Case(("bench", "--model", "muse-shapes", "--repeats", "0"), "latency: repeats=0 must be an integer in [2, 10000]", tiny_registry=False),
    "bench_guidance_inf": Case(("bench", "--model", "muse-shapes", "--guidance", "inf"), "guidance=inf must be finite", tiny_registry=False),
    "bench_out_into_file": Case(("bench", "--model", "muse-shapes", "--out", "{tmp}/afile/b.json"), "afile",
                                files={"afile": "x"}, tiny_registry=False),
    "bench_calibration_huge": Case(("bench", "--model", "muse-shapes", "--calibration", "matmul", "--calibration-size", "1000000000"),
                                   "calibration", tiny_registry=False),
    "bench_batch_huge": Case(("bench", "--model", "muse-shapes", "--batch", "100000"), "latency: batch=100000 must be an integer in [1, 4096]", tiny_registry=False),
    # shapes
    "render_n_zero": Case(("shapes", "render", "--split", "val", "--n", "0", "--out", "{tmp}/r"), "--n 0: render 1 to", tiny_registry=False),
    "render_n_negative": Case(("shapes", "render", "--split", "val", "--n", "-4", "--out", "{tmp}/r"), "--n -4", tiny_registry=False),
    "render_n_huge": Case(("shapes", "render", "--split", "val", "--n", "99999999999", "--out", "{tmp}/r"), "render 1 to", tiny_registry=False),
    "render_bad_split": Case(("shapes", "render", "--split", "vall", "--n", "3", "--out", "{tmp}/r"), "invalid choice: 'vall'", tiny_registry=False),
    "render_size_zero": Case(("shapes", "render", "--split", "val", "--n", "3", "--size", "0", "--out", "{tmp}/r"), "size", tiny_registry=False),
    "render_out_is_file": Case(("shapes", "render", "--split", "val", "--n", "3", "--out", "{tmp}/f"), "is a file",
                               files={"f": "x"}, tiny_registry=False),
    "score_not_a_folder": Case(("shapes", "score", "{tmp}/none"), "is not a directory", tiny_registry=False),
    "score_without_prompts": Case(("shapes", "score", "{tmp}/d"), "prompts.jsonl", files={"d/a.png": b""}, tiny_registry=False),
}
