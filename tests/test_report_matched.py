"""Speed-up at matched quality as an equivalence statement (musebench.report.matched, issue 21 item 3).

Tiny synthetic families: the chosen point is the fastest one equivalent to the best (never the
slowest, never picked by a point estimate), fewer prompts give "not established" instead of a
larger speed-up, the TOST is the one of musebench.stats.equivalence, and the report page states
the rule with the margin and N.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import pytest

from musebench.errors import MusebenchError
from musebench.report import build_report
from musebench.report.matched import DEFAULT_MARGIN, Point, accuracy_test, choose, latency_ratio, match
from musebench.stats.equivalence import tost_independent_proportions, tost_paired_proportions
from musebench.suite import load_suite, suite_to_dict

ROOT = Path(__file__).resolve().parents[1]


def _items(n: int, correct: int, offset: int = 0) -> dict[str, float]:
    """n images "<i>/<i>", the `correct` ones from `offset` on (wrapping) scored 1."""
    return {f"{i}/{i}": float((i - offset) % n < correct) for i in range(n)}


def _point(label: str, n: int, correct: int, ms: float, paired: bool = True, offset: int = 0) -> Point:
    return Point(label=label, quality=correct / n, n=n, items=_items(n, correct, offset) if paired else None, ms=ms,
                 ms_ci=(0.95 * ms, 1.05 * ms))


def _diffusion(n: int, paired: bool = True) -> list[Point]:
    """Three settings scored on the same n images: 50 steps (0.800), 25 steps (0.005 lower, at
    least one image: tied within its interval at large n), 10 steps (0.600, clearly worse)."""
    best = round(0.800 * n)
    return [_point("steps=50", n, best, 100.0, paired), _point("steps=25", n, best - max(1, round(0.005 * n)), 40.0, paired),
            _point("steps=10", n, round(0.600 * n), 10.0, paired)]


def _muse(n: int, paired: bool = True) -> list[Point]:
    """Muse 0.003 below the diffusion best (at least one image), and a fast, clearly worse setting."""
    return [_point("steps=12", n, round(0.800 * n) - max(1, round(0.003 * n)), 10.0, paired),
            _point("steps=4", n, round(0.500 * n), 4.0, paired)]


# (a) ------------------------------------------------------------------------------------------------

def test_the_fastest_equivalent_setting_is_chosen_not_the_slowest_nor_the_point_estimate():
    choice = choose(_diffusion(2000), margin=0.02)
    assert choice.best.label == "steps=50"  # the highest point estimate (old rule: this one, 100 ms)
    assert [p.label for p in choice.tied] == ["steps=50", "steps=25"]  # 0.005 apart: equivalent within 0.02
    assert choice.chosen.label == "steps=25"  # the fastest of the tied, 40 ms; steps=10 is not equivalent
    found = match(_muse(2000), _diffusion(2000), margin=0.02)
    assert found.reference.chosen.label == "steps=12" and found.verdict.status == "equivalent"
    assert found.ratio.value == pytest.approx(40.0 / 10.0)  # against 25 steps, not the 10x of 50 steps
    lo, hi = found.ratio.ci95  # no repeats: the two 95 % intervals combined, conservatively
    assert (lo, hi) == pytest.approx((0.95 * 40 / (1.05 * 10), 1.05 * 40 / (0.95 * 10)))


def test_a_tie_is_not_broken_by_a_difference_inside_its_interval():
    # Swap which tied setting has the higher point estimate: the choice (the fastest tied) stays.
    n = 2000
    swapped = [_point("steps=50", n, round(0.795 * n), 100.0), _point("steps=25", n, round(0.800 * n), 40.0),
               _point("steps=10", n, round(0.600 * n), 10.0)]
    assert choose(swapped, 0.02).chosen.label == choose(_diffusion(n), 0.02).chosen.label == "steps=25"


# (b) ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("paired, enough", [(True, 2000), (False, 20000)])  # unpaired: 10x the images
def test_fewer_prompts_give_not_established_rather_than_a_larger_speedup(paired, enough):
    many = match(_muse(enough, paired), _diffusion(enough, paired), margin=0.02)
    few = match(_muse(64, paired), _diffusion(64, paired), margin=0.02)
    assert many.verdict.status == "equivalent" and many.ratio is not None
    # 64 prompts: nothing is equivalent to anything within 0.02, so no family point moves to a faster
    # setting and no match is claimed (the old rule claimed 10x here: 50 steps vs Muse at or above its CI)
    assert few.ratio is None and few.verdict.status == "not established"
    assert few.verdict.text.startswith("not established at N=64, margin 0.02")


def test_muse_better_is_stated_as_better():
    n = 400
    muse = [_point("steps=12", n, 360, 10.0)]  # 0.90 against 0.70: a clear win, not an equivalence
    base = [_point("steps=50", n, 280, 100.0, offset=80)]
    found = match(muse, base, margin=0.02)
    assert found.verdict.status == "better" and found.verdict.text.startswith("reference better at N=400")
    assert found.ratio.value == pytest.approx(10.0)


# (c) ------------------------------------------------------------------------------------------------

def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_tost_is_the_statistics_package_and_agrees_with_a_hand_computed_newcombe_interval():
    a, b = Point("a", 160 / 200, 200, None, 1.0), Point("b", 150 / 200, 200, None, 1.0)
    found = accuracy_test(a, b, margin=0.08)
    assert found == tost_independent_proportions(160, 200, 150, 200, 0.08)
    # By hand: Newcombe (1998) method 10 at 90 %, b - a = 0.75 - 0.80 = -0.05,
    # low = d - sqrt((p_b - l_b)^2 + (u_a - p_a)^2), high = d + sqrt((u_b - p_b)^2 + (p_a - l_a)^2)
    z = 1.6448536269514722
    (la, ua), (lb, ub) = _wilson(160, 200, z), _wilson(150, 200, z)
    low = -0.05 - math.sqrt((0.75 - lb) ** 2 + (ua - 0.80) ** 2)
    high = -0.05 + math.sqrt((ub - 0.75) ** 2 + (0.80 - la) ** 2)
    assert found.ci90 == pytest.approx((low, high), abs=1e-12)
    assert (round(low, 4), round(high, 4)) == (-0.1182, 0.0188)
    assert found.equivalent is False  # -0.1182 < -0.08: the interval leaves the margin
    assert accuracy_test(a, b, margin=0.12).equivalent is True  # inside (-0.12, 0.12)


def test_paired_tost_uses_the_common_items_only():
    a = Point("a", 0.0, 5, {"0/0": 1, "1/1": 1, "2/2": 0, "3/3": 1, "9/9": 0}, 1.0)
    b = Point("b", 0.0, 5, {"0/0": 1, "1/1": 0, "2/2": 0, "3/3": 1, "8/8": 1}, 1.0)
    assert accuracy_test(a, b, 0.3) == tost_paired_proportions([1, 1, 0, 1], [1, 0, 0, 1], 0.3)


def test_latency_ratio_from_repeats_is_an_unpaired_bootstrap_of_medians():
    ref = Point("muse", 0.8, 10, None, 10.0, ms_repeats=(9.0, 10.0, 10.0, 11.0, 10.5, 9.5))
    other = Point("ldm", 0.8, 10, None, 40.0, ms_repeats=(38.0, 40.0, 41.0, 42.0, 39.0, 40.0))
    ratio = latency_ratio(ref, other)
    assert ratio.value == 4.0 and ratio.ci95[0] < 4.0 < ratio.ci95[1] and ratio.ci95[0] > 0
    assert "unpaired bootstrap of the ratio of median latencies" in ratio.method


# (d) and the suite key ---------------------------------------------------------------------------------

def _schema2_run(run_dir: Path, n: int, margin: float | None, batch64: bool = False) -> Path:
    """A results-schema-2 run: Muse (2 steps settings) and one diffusion scheduler (2 settings),
    oracle accuracy with per-image items and batch-1 latency with per-repeat items; with `batch64`,
    also batch-64 latency (Muse 10x and diffusion 2x faster per image than at batch 1) and one prompt
    category (oracle/counting, the same outcomes)."""
    points = [("muse", {"steps": 12}, _muse(n)[0], 10.0), ("muse", {"steps": 4}, _muse(n)[1], 4.0),
              ("ldm", {"scheduler": "ddim", "steps": 50}, _diffusion(n)[0], 100.0),
              ("ldm", {"scheduler": "ddim", "steps": 25}, _diffusion(n)[1], 40.0)]
    rows, items = [], []
    for model, params, point, ms in points:
        repeats = {f"repeat/{i}": ms * (1 + 0.01 * (i - 2)) for i in range(5)}
        metrics = [("oracle/all_correct", point.quality, n, True, [point.quality - 0.01, point.quality + 0.01], point.items),
                   ("latency/ms_per_image_b1", ms, 5, False, [0.97 * ms, 1.03 * ms], repeats)]
        if batch64:
            per = 10.0 if model == "muse" else 2.0
            metrics += [("oracle/counting", *metrics[0][1:]),
                        ("latency/ms_per_image_b64", ms / per, 5, False, [0.97 * ms / per, 1.03 * ms / per],
                         {k: v / per for k, v in repeats.items()})]
        for metric, value, count, hib, ci, its in metrics:
            rows.append({"suite": "tiny", "model": model, "params": params, "metric": metric, "value": value, "n": count,
                         "ci95": ci, "higher_is_better": hib, "extra": {}, "items": "items.jsonl"})
            items.append({"model": model, "params": params, "metric": metric, "keys": list(its), "values": list(its.values())})
    run_dir.mkdir(parents=True)
    (run_dir / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (run_dir / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items), encoding="utf-8")
    report = {} if margin is None else {"equivalence_margin": margin}
    (run_dir / "run.json").write_text(json.dumps({"results_schema": 2, "suite_name": "tiny",
                                                  "suite": {"name": "tiny", "gates": [], "report": report}}))
    return run_dir


def test_report_page_states_the_rule_margin_and_n(tmp_path: Path):
    out = build_report([_schema2_run(tmp_path / "run", 2000, 0.03)], tmp_path / "report").parent
    md = (out / "index.md").read_text(encoding="utf-8")
    section = md[md.index("### Speed at matched quality"):]
    caption = section.split("\n\n")[1]
    assert "best setting (highest accuracy)" in caption and "equivalent to it by TOST within ±0.03" in caption
    assert "fastest setting not worse than that" in caption and "Margin ±0.03" in caption and "N = 2000 images" in caption
    assert "not established" in caption
    frame = section.split("\n\n")[2]
    assert "ldm (ddim)" in frame and "equivalent" in frame
    with open(out / "speedups.csv", newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["other params"] == "scheduler=ddim steps=25"
    assert float(row["speed-up"]) == pytest.approx(4.0) and float(row["speed-up lo"]) < 4.0 < float(row["speed-up hi"])
    assert "unpaired bootstrap" in row["speed-up interval"] and row["N"] == "2000"


def test_speedups_at_batch_n_and_per_category_apply_the_same_rule(tmp_path: Path):
    out = build_report([_schema2_run(tmp_path / "run", 2000, 0.03, batch64=True)], tmp_path / "report").parent
    with open(out / "speedups.csv", newline="", encoding="utf-8") as f:
        b1, b64 = list(csv.DictReader(f))
    assert (b1["time"], b64["time"]) == ("latency at batch 1", "latency at batch 64")
    assert float(b1["speed-up"]) == pytest.approx(4.0)
    assert float(b64["speed-up"]) == pytest.approx(4.0 * 10 / 2)  # the batch-64 times, not the batch-1 ones
    with open(out / "speedups_categories.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["quality metric"], r["time"]) for r in rows] == [("oracle/counting", "latency at batch 1"),
                                                               ("oracle/counting", "latency at batch 64")]
    assert [r["claim"] for r in rows] == [b1["claim"], b64["claim"]]  # same outcomes, same verdicts and ratios
    md = (out / "index.md").read_text(encoding="utf-8")
    assert "### Speed at matched quality, per prompt category" in md
    assert (out / "pareto_oracle_all_correct_b64.png").is_file()


def test_the_real_renders_take_no_part_in_the_speedups(tmp_path: Path):
    from musebench.report import pareto
    from musebench.report.data import load_runs

    run = _schema2_run(tmp_path / "run", 2000, 0.03)
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    rows += [{**r, "model": "real", "params": {}, "value": 1.0 if r["metric"] == "oracle/all_correct" else 0.5, "items": None}
             for r in rows[:2]]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    info = json.loads((run / "run.json").read_text())
    info["models"] = {"muse": {"adapter": "muse"}, "ldm": {"adapter": "ldm"}, "real": {"adapter": "real"}}
    (run / "run.json").write_text(json.dumps(info))
    runs, df = load_runs([run])
    assert pareto.ceilings(runs) == {(runs[0].label, "real")}
    found = pareto.speedup_rows(df, pareto.items_by_point(runs), pareto.margins(runs), pareto.ceilings(runs))
    assert [(r.reference, r.other) for r in found] == [("muse", "ldm (ddim)")]
    assert len(pareto.speedup_rows(df, pareto.items_by_point(runs), pareto.margins(runs))) == 2  # without: real is a family


def test_report_with_few_prompts_claims_no_speedup(tmp_path: Path):
    out = build_report([_schema2_run(tmp_path / "run", 64, None)], tmp_path / "report").parent
    with open(out / "speedups.csv", newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["verdict"] == "not established" and row["speed-up"] == ""
    assert row["claim"].startswith("not established at N=64, margin 0.02")  # the default margin: none declared
    assert "Margin ±0.02" in (out / "index.md").read_text(encoding="utf-8")


def test_a_bad_margin_in_run_json_names_the_file(tmp_path: Path):
    with pytest.raises(MusebenchError, match=r"run.json: suite.report.equivalence_margin must be a number in \(0, 1\)"):
        build_report([_schema2_run(tmp_path / "run", 64, 2.0)], tmp_path / "report")


def test_suite_key_equivalence_margin_is_checked_and_recorded():
    from musebench.suite.schema import ReportSpec

    assert ReportSpec().equivalence_margin == DEFAULT_MARGIN  # the suite's default is the report's, for old runs
    path = ROOT / "suites" / "quickstart.yaml"
    assert suite_to_dict(load_suite(path))["report"]["equivalence_margin"] == 0.02
    assert suite_to_dict(load_suite(path, ["report.equivalence_margin=0.05"]))["report"]["equivalence_margin"] == 0.05
    with pytest.raises(MusebenchError, match=r"equivalence_margin must be in \(0, 1\)"):
        load_suite(path, ["report.equivalence_margin=0"])


# the head-to-head benchmark uses the same rule -------------------------------------------------------------

def _head_to_head():
    spec = importlib.util.spec_from_file_location("head_to_head", ROOT / "benchmarks" / "head_to_head.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_row(model: str, point: Point, ms: float) -> dict:
    return {"model": model, "label": f"{model} {point.label}", "all_correct": point.quality, "n": point.n,
            "items": point.items, "ms_per_image_b1": ms, "ms_b1_repeats": [ms * (1 + 0.01 * i) for i in range(-2, 3)],
            "ms_per_image_b64": ms / 2, "flops_per_image": ms * 1e9}


@pytest.mark.parametrize("n, holds", [(2000, True), (64, False)])
def test_head_to_head_matched_speedup_uses_the_same_rule(n, holds):
    rows = [_bench_row("muse", p, p.ms) for p in _muse(n)] + [_bench_row("ldm", p, p.ms) for p in _diffusion(n)]
    result = _head_to_head().matched_speedup(rows, "b64", margin=0.02)
    assert result["muse"] == "muse steps=12" and result["margin"] == 0.02 and "best setting" in result["rule"]
    if holds:
        assert result["diffusion"] == "ldm steps=25" and result["verdict"] == "equivalent"
        assert result["speedup_b1"] == pytest.approx(4.0) and "unpaired bootstrap" in result["speedup_b1_method"]
    else:
        assert result["diffusion"] == "ldm steps=50" and "speedup_b1" not in result
        assert result["note"].startswith(f"not established at N={n}, margin 0.02")


def test_muse_far_better_than_the_baseline_is_timed_at_its_fastest_matching_setting():
    """The committed report's case: Muse at 24 steps is far more accurate than diffusion's best, so the
    speed-up at the baseline's quality is that of Muse's FASTEST setting still not worse by the margin,
    not of its best (which would read "Muse slower" at matched quality)."""
    from musebench.report.matched import Point, match

    def pt(label, k, ms):
        return Point(label=label, quality=k / 20000, n=20000, items=None, ms=ms)

    diffusion = [pt("ddpm 10", 11660, 44.7), pt("ddpm 50", 11700, 200.0)]
    muse = [pt("muse 24", 19160, 73.8), pt("muse 4", 15000, 17.6), pt("muse 2", 10000, 9.0)]
    found = match(muse, diffusion, margin=0.02)
    assert found.other.chosen.label == "ddpm 10"  # equivalent to ddpm 50 and faster
    assert found.reference.chosen.label == "muse 4"  # 0.75 vs 0.583: better; muse 2 (0.50) is worse
    assert found.verdict.status == "better" and round(found.ratio.value, 2) == round(44.7 / 17.6, 2)
