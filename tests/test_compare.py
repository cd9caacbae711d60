"""`musebench compare RUN_A RUN_B` on tiny real runs: identical runs show no difference, a broken
model is caught by the paired tests after Holm, and bad input is one line with exit code 2."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from results_support import pair_runs  # noqa: F401

from musebench.cli.main import main

REPO = Path(__file__).resolve().parent.parent


def _compare(capsys, *args) -> tuple[int, str, str]:
    code = main(["compare", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_identical_runs_differ_by_nothing(pair_runs, tmp_path, capsys):
    code, out, _ = _compare(capsys, pair_runs["good"], pair_runs["good_again"], "--json", tmp_path / "c.json")
    assert code == 0 and "0 differ at Holm-adjusted p < 0.05" in out
    report = json.loads((tmp_path / "c.json").read_text())
    tested = [c for c in report["comparisons"] if c["p_value"] is not None]
    assert {c["kind"] for c in tested} == {"mcnemar", "bootstrap"}
    assert all(c["diff"] == 0 and c["p_value"] == 1 and c["p_holm"] == 1 and c["verdict"] == "-" for c in tested)
    unpaired = [c for c in report["comparisons"] if c["metric"].startswith("pixel_mean")]
    assert unpaired and all(c["note"] == "unpaired: no per-item outcomes" and c["p_value"] is None for c in unpaired)
    assert {f["kind"]: f["size"] for f in report["families"]} == {"mcnemar": len(tested) - 1, "bootstrap": 1}


def test_a_broken_model_is_significantly_worse(pair_runs, tmp_path, capsys):
    code, out, _ = _compare(capsys, pair_runs["good"], pair_runs["broken"], "--metrics", "oracle/*",
                            "--json", tmp_path / "c.json")
    assert code == 0 and "all binary per-item rows (oracle) with metric matching 'oracle/*': exact McNemar" in out
    rows = {c["metric"]: c for c in json.loads((tmp_path / "c.json").read_text())["comparisons"]}
    assert set(rows) == {m for m in rows if m.startswith("oracle/")}
    top = rows["oracle/all_correct"]
    assert top["diff"] == -1.0 and top["n"] == 16 and top["verdict"] == "B worse"
    assert top["p_value"] == 2 * 0.5**16 and top["p_holm"] <= len(rows) * top["p_value"] and top["p_holm"] < 0.05
    assert top["ci95"][1] < 0


def test_partly_shared_items_are_paired_on_the_common_keys(pair_runs, tmp_path, capsys):
    run_dir = Path(shutil.copytree(pair_runs["good_again"], tmp_path / "fewer", ignore=shutil.ignore_patterns("report", "images")))
    lines = [json.loads(s) for s in (run_dir / "items.jsonl").read_text().splitlines()]
    top = next(ln for ln in lines if ln["metric"] == "oracle/all_correct")
    top["keys"], top["values"] = top["keys"][:10], top["values"][:10]
    (run_dir / "items.jsonl").write_text("".join(json.dumps(ln) + "\n" for ln in lines))
    code, out, _ = _compare(capsys, pair_runs["good"], run_dir, "--metrics", "oracle/all_correct")
    assert code == 0 and "paired on 10 of 16 items (the others are in one run only)" in out


def _edit_copy(run_dir: Path, dest: Path, edit) -> Path:
    dest = Path(shutil.copytree(run_dir, dest, ignore=shutil.ignore_patterns("report", "images")))
    for name in ("run.json", "results.jsonl", "items.jsonl"):
        (dest / name).write_text(edit(name, (dest / name).read_text()))
    return dest


def test_bad_input_is_one_line_and_exit_2(pair_runs, tmp_path, capsys):
    good = pair_runs["good"]
    code, _, err = _compare(capsys, good, tmp_path / "missing")
    assert code == 2 and err == f"musebench: error: {tmp_path / 'missing'}: run directory not found; give the --out directory of `musebench run`"

    old = REPO / "tests/data/schema1_run"  # results schema 1 (steps_sweep as committed before schema 2, 30 rows): no items
    code, _, err = _compare(capsys, old, good)
    assert code == 2 and err == (f"musebench: error: {old}: no per-item outcomes (results schema 1); "
                                 "rerun `musebench run` with this musebench to compare it paired")

    other = _edit_copy(good, tmp_path / "other", lambda name, text: text.replace('"pair"', '"other"'))
    code, _, err = _compare(capsys, good, other)
    assert code == 2 and err == (f"musebench: error: {other}: a run of suite 'other' but {good} is of suite 'pair'; "
                                 "compare two runs of the same suite")

    new_seeds = lambda name, text: re.sub(r'"(\d+)/', r'"\1/9', text) if name == "items.jsonl" else text  # noqa: E731
    reseeded = _edit_copy(good, tmp_path / "reseeded", new_seeds)
    code, _, err = _compare(capsys, good, reseeded)
    assert code == 2 and err.endswith("(no per-item key matches); compare two runs of the same prompts and suite seed")

    code, _, err = _compare(capsys, good, good, "--metrics", "fid/*")
    assert code == 2 and "no (model, params, metric) rows matching --metrics 'fid/*' in common" in err


def test_latency_rows_compare_as_a_paired_ratio_of_medians():
    from musebench.results import ResultRow
    from musebench.results.compare import compare_rows

    times = [10.0, 11.0, 10.5, 12.0, 10.2, 11.5, 10.8, 10.1]
    a, b = ({f"repeat/{i}": f * t for i, t in enumerate(times)} for f in (1.0, 2.0))
    row = lambda items: ResultRow("s", "m", {}, "latency/ratio", sorted(items.values())[4], False, n=8, items=items)  # noqa: E731
    c = compare_rows(row(a), row(b))
    assert c.kind == "ratio" and c.diff == 2.0 and c.ci95[0] > 1.0 and c.p_value < 0.05 and c.n == 8


def test_rows_pair_across_a_changed_setting_one_to_one():
    """`--set models.muse.params.guidance=0` on run B: each sweep point pairs with A's same steps."""
    from pathlib import Path

    import pytest

    from musebench.results.compare import _pairs
    from musebench.results.run_dir import RunData
    from musebench.results.schema import ResultRow

    def r(params, metric="oracle/all_correct"):
        return ResultRow(suite="s", model="muse", params=params, metric=metric, value=0.5, n=2, ci95=None,
                         higher_is_better=True, extra={}, where="t", items={"0/0": 1.0, "1/0": 0.0})

    a = RunData(run_dir=Path("a"), rows=(r({"steps": 4}), r({"steps": 8})), run_json={})
    b = RunData(run_dir=Path("b"), rows=(r({"steps": 4, "guidance": 0.0}), r({"steps": 8, "guidance": 0.0})), run_json={})
    pairs, notes = _pairs(a, b, None)
    assert [(ra.params["steps"], rb.params["steps"]) for ra, rb in pairs] == [(4, 4), (8, 8)]
    assert notes == ["2 rows paired across changed settings (B: guidance=0.0); params shown are A's"]
    ambiguous = RunData(run_dir=Path("b"), rows=(r({"guidance": 0.0}), r({"guidance": 1.0})), run_json={})
    with pytest.raises(Exception, match="no \\(model, params, metric\\) rows"):
        _pairs(RunData(run_dir=Path("a"), rows=(r({"steps": 4}),), run_json={}), ambiguous, None)
