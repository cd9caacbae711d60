"""musebench gate on bad input: one clear line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import json

import pytest
from test_gate import GATES, quality_and_latency, record_baseline, row, write_run

from musebench.cli.main import main


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(["gate", *map(str, argv)])
    err = capsys.readouterr().err
    return code, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("musebench: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_baseline_from_another_suite(tmp_path, capsys):
    baseline = record_baseline(tmp_path, [row(suite="steps_sweep"), row("latency/ratio", 2.0, (1.9, 2.1), suite="steps_sweep")], suite="steps_sweep")
    run = write_run(tmp_path / "run", quality_and_latency())
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "baseline of suite 'steps_sweep' but the run is of suite 'quickstart'")


def test_baseline_with_another_metric_set(tmp_path, capsys):
    baseline = record_baseline(tmp_path, [row()], gates=[GATES[0]])
    run = write_run(tmp_path / "run", quality_and_latency())
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "another metric set (only in the run: ['latency/ratio']; only in the baseline: none)", "--write-baseline")


def test_missing_results_file(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency())
    (run / "results.jsonl").unlink()
    code, err = run_cli(capsys, run, "--write-baseline", tmp_path / "b.jsonl")
    assert_one_line_error(code, err, "results.jsonl: results file not found")
    assert not (tmp_path / "b.jsonl").exists()


def test_missing_run_dir_and_run_json(tmp_path, capsys):
    assert_one_line_error(*run_cli(capsys, tmp_path / "nope"), "run directory not found")
    run = write_run(tmp_path / "run", quality_and_latency())
    (run / "run.json").unlink()
    assert_one_line_error(*run_cli(capsys, run), "run.json: file not found")


def test_gate_on_a_metric_the_run_did_not_compute(tmp_path, capsys):
    gates = [{"metric": "fid/probe", "max_drop": 1.0}]
    baseline = record_baseline(tmp_path, quality_and_latency(), gates=gates)
    run = write_run(tmp_path / "run", quality_and_latency(), gates=gates)
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "gates[0]: gate on metric 'fid/probe', which the run did not compute", "computed: latency/ratio, oracle/all_correct")


def test_gate_on_a_model_the_run_lacks(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency(), gates=[{"metric": "latency/ratio", "model": "ldm", "max": 3}])
    assert_one_line_error(*run_cli(capsys, run), "for model 'ldm', which the run has no row for (models with it: muse)")


def test_malformed_json_line_names_file_and_line(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency())
    with (run / "results.jsonl").open("a") as handle:
        handle.write('{"suite": "quickstart", "model": \n')
    code, err = run_cli(capsys, run)
    assert_one_line_error(code, err, f"{run / 'results.jsonl'}:3: malformed JSON")


def test_malformed_baseline_line(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    lines = baseline.read_text().splitlines()
    baseline.write_text("\n".join([lines[0], lines[1], "[1, 2"]) + "\n")
    run = write_run(tmp_path / "run", quality_and_latency())
    assert_one_line_error(*run_cli(capsys, run, "--baseline", baseline), f"{baseline}:3: malformed JSON")


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"value": "0.9"}, "key 'value' must be a number"),
        ({"value": True}, "key 'value' must be a number"),
        ({"ci95": [0.95, 0.85]}, "key 'ci95' must have lo <= hi"),
        ({"ci95": [0.9]}, "key 'ci95' must be [lo, hi] or null"),
        ({"higher_is_better": "yes"}, "key 'higher_is_better' must be true or false"),
        ({"params": [12]}, "key 'params' must be an object"),
        ({"valeu": 1.0}, "unknown key(s) valeu"),
    ],
)
def test_bad_row_fields_name_file_line_and_key(tmp_path, capsys, change, fragment):
    record = {**row(), **change}
    run = write_run(tmp_path / "run", [record, row("latency/ratio", 2.0, (1.9, 2.1))])
    assert_one_line_error(*run_cli(capsys, run), f"{run / 'results.jsonl'}:1: {fragment}")


def test_row_missing_keys(tmp_path, capsys):
    record = row()
    del record["metric"]
    run = write_run(tmp_path / "run", [record])
    assert_one_line_error(*run_cli(capsys, run), "results.jsonl:1: results row lacks key(s) metric")


def test_duplicate_rows(tmp_path, capsys):
    run = write_run(tmp_path / "run", [row(), row("latency/ratio", 2.0, (1.9, 2.1)), row()])
    assert_one_line_error(*run_cli(capsys, run), "results.jsonl:3: duplicate row for model=muse", "(first at ")


def test_baseline_file_missing_or_without_header(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency())
    assert_one_line_error(*run_cli(capsys, run, "--baseline", tmp_path / "none.jsonl"), "baseline file not found", "--write-baseline")
    plain = tmp_path / "plain.jsonl"
    plain.write_text((run / "results.jsonl").read_text())  # a results file is not a baseline
    assert_one_line_error(*run_cli(capsys, run, "--baseline", plain), f"{plain}:1: first line is not a baseline header")


def test_drop_gate_without_baseline(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency())
    assert_one_line_error(*run_cli(capsys, run), "set max_drop/max_rel_drop: give --baseline FILE")


def test_suite_without_gates(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency(), gates=[])
    assert_one_line_error(*run_cli(capsys, run), "the suite has no 'gates:' section")


@pytest.mark.parametrize(
    "gate, fragment",
    [
        ({"metric": "latency/ratio", "max_rel_dorp": 0.2}, "unknown key 'max_rel_dorp' (did you mean 'max_rel_drop'?)"),
        ({"metric": "latency/ratio"}, "gate on 'latency/ratio' sets none of min, max, max_drop, max_rel_drop"),
        ({"metric": "latency/ratio", "max_drop": -1}, "key 'max_drop' is an allowed worsening and must be >= 0"),
        ({"metric": "latency/ratio", "min": 2, "max": 1}, "min 2 > max 1"),
        ({"metric": "latency/ratio", "max": "fast"}, "key 'max' must be a finite number"),
    ],
)
def test_bad_gate_specs(tmp_path, capsys, gate, fragment):
    run = write_run(tmp_path / "run", quality_and_latency(), gates=[gate])
    assert_one_line_error(*run_cli(capsys, run), f"suite: gates[0]: {fragment}")


def test_stale_baseline_with_another_sweep(tmp_path, capsys):
    sweep = [row(params={"steps": s}) for s in (4, 8)] + [row("latency/ratio", 2.0, (1.9, 2.1), params={"steps": s}) for s in (4, 8)]
    baseline = record_baseline(tmp_path, sweep)
    changed = [row(params={"steps": s}) for s in (4, 16)] + [row("latency/ratio", 2.0, (1.9, 2.1), params={"steps": s}) for s in (4, 16)]
    run = write_run(tmp_path / "run", changed)
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "no baseline row for model=muse params=steps=16 metric=oracle/all_correct")


def test_metric_direction_changed(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", [row(), row("latency/ratio", 2.0, (1.9, 2.1), hib=True)])
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "'latency/ratio' has higher_is_better=False in the baseline but True in the run")


def test_junit_path_is_a_directory_writes_nothing(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    run = write_run(tmp_path / "run", quality_and_latency())
    (tmp_path / "out").mkdir()
    code, err = run_cli(capsys, run, "--baseline", baseline, "--junit", tmp_path / "out")
    assert_one_line_error(code, err, "--junit")
    assert list((tmp_path / "out").iterdir()) == []


def test_write_baseline_over_a_directory(tmp_path, capsys):
    run = write_run(tmp_path / "run", quality_and_latency())
    code, err = run_cli(capsys, run, "--write-baseline", tmp_path)
    assert_one_line_error(code, err, "--write-baseline", "is a directory")


def test_baseline_header_metrics_disagree_with_rows(tmp_path, capsys):
    baseline = record_baseline(tmp_path, quality_and_latency())
    lines = baseline.read_text().splitlines()
    header = json.loads(lines[0])
    header["metrics"] = ["oracle/all_correct"]
    baseline.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    run = write_run(tmp_path / "run", quality_and_latency())
    assert_one_line_error(*run_cli(capsys, run, "--baseline", baseline), "header lists metrics")


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["gate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "musebench gate runs/quickstart --baseline reports/baselines/quickstart.jsonl" in out
    assert "--write-baseline" in out and "--junit" in out


def test_a_row_measured_under_another_protocol_is_not_compared(tmp_path, capsys):
    gates = [{"metric": "clip_score/probe", "model": "muse", "max_drop": 0.02}]

    def clip(variant, value):
        r = row("clip_score/probe", value, (value - 0.01, value + 0.01))
        r["extra"] = {"variant": variant, "mode": "clean", "fingerprint": "f00d"}
        return r

    baseline = record_baseline(tmp_path, [clip("cosine", 0.30)], gates=gates)
    same = write_run(tmp_path / "same", [clip("cosine", 0.30)], gates=gates)
    assert main(["gate", str(same), "--baseline", str(baseline)]) == 0
    capsys.readouterr()
    run = write_run(tmp_path / "run", [clip("torchmetrics", 30.0)], gates=gates)
    code, err = run_cli(capsys, run, "--baseline", baseline)
    assert_one_line_error(code, err, "'clip_score/probe' for model muse was measured with variant='cosine' in the baseline",
                          "variant='torchmetrics' in the run", "--write-baseline")
