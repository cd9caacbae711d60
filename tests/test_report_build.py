"""`musebench report` end to end on synthetic runs (tests/test_report_runs.py): files, numbers, marks."""

from __future__ import annotations

import csv
import html.parser
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from test_report_runs import read_rows, write_run

from musebench.cli.main import main
from musebench.errors import MusebenchError
from musebench.report import build_report
from musebench.report.build import MARKER


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("single")
    run = write_run(root / "runs" / "a")
    return run, build_report([run], root / "report").parent


@pytest.fixture(scope="module")
def compare(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    a = write_run(root / "runs" / "before")
    b = write_run(root / "runs" / "after", seed=1, quality_shift=0.05, images=False)
    for run in (a, b):  # fewer metrics: fewer figures, a faster test
        rows = [r for r in read_rows(run) if r["metric"] in ("fid/probe", "oracle/all_correct")]
        (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return a, b, build_report([a, b], root / "report").parent


def _expected_best(rows: list[dict], metric: str) -> dict | None:
    """The row a table marks bold for `metric`: the best value, if its 95 % interval is clear of every
    other row's interval (or value, without one); None when no row is significantly best."""
    picked = [r for r in rows if r["metric"] == metric and math.isfinite(r["value"])]
    sign = 1 if picked[0]["higher_is_better"] else -1
    leader = max(picked, key=lambda r: sign * r["value"])
    if leader["ci95"] is None or sum(r["value"] == leader["value"] for r in picked) > 1:
        return None
    lo, hi = sorted(sign * v for v in leader["ci95"])  # higher is better in this frame
    for r in picked:
        if r is not leader and max(sign * v for v in (r["ci95"] or [r["value"]])) >= lo:
            return None
    return leader


def _params_label(params: dict) -> str:
    return " ".join(f"{k}={params[k]}" for k in sorted(params))


def test_all_outputs_exist(single) -> None:
    _, out = single
    expected = ["index.md", "index.html", "runs.csv", "speedups.csv", "saturation.csv", MARKER]
    expected += [f"{stem}.{ext}" for stem in ("summary", "categories", "attributes") for ext in ("md", "tex", "csv")]
    expected += [f"{stem}.{ext}" for ext in ("png", "pdf") for stem in (
        "steps_fid_probe", "steps_oracle_all_correct", "steps_clip_score_probe", "steps_latency_ms_per_image_b1",
        "tradeoff_fid_probe_clip_score_probe", "pareto_oracle_all_correct", "pareto_fid_probe", "categories_bars",
        "grid_a_muse_steps_0", "grid_a_muse_guidance_1")]
    missing = [name for name in expected if not (out / name).is_file()]
    assert missing == []
    assert not list(out.parent.glob(".report.*"))  # no staging or old folder left behind


def test_best_values_are_marked_in_every_format(single) -> None:
    run, out = single
    rows = read_rows(run)
    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    summary_tex = (out / "summary.tex").read_text(encoding="utf-8")
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    bold = 0
    for metric, decimals in (("fid/probe", 2), ("oracle/all_correct", 3), ("clip_score/probe", 2), ("latency/ms_per_image_b1", 1)):
        best = _expected_best(rows, metric)
        marked = [r for r in table if r["metric"] == metric and r["best"] == "True"]
        if best is None:
            assert marked == []
            continue
        bold += 1
        assert [(r["model"], json.loads(r["params"])) for r in marked] == [(best["model"], best["params"])]
        text = f"{best['value']:.{decimals}f}"
        line = next(line for line in summary_md.splitlines() if f"| {_params_label(best['params'])} |".replace("_", r"\_") in line
                    and line.startswith(f"| {best['model']} "))
        assert f"**{text}**" in line
        assert f"\\textbf{{{text}}}" in summary_tex
    assert 0 < bold < 4  # both cases occur here: a clear best (latency) and overlapping intervals
    columns = {r["metric"] for r in table}
    assert summary_md.count("**") == 2 * sum(_expected_best(rows, m) is not None for m in columns)
    for r in table:
        row = next(x for x in rows if x["metric"] == r["metric"] and x["model"] == r["model"] and x["params"] == json.loads(r["params"]))
        assert math.isclose(float(r["value"]), row["value"])
        if row["ci95"] is not None:
            assert math.isclose(float(r["ci95_lo"]), row["ci95"][0]) and math.isclose(float(r["ci95_hi"]), row["ci95"][1])


def test_latex_is_booktabs_and_escaped(single) -> None:
    _, out = single
    tex = (out / "summary.tex").read_text(encoding="utf-8")
    assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    assert r"oracle/all\_correct $\uparrow$" in tex and r"fid/probe $\downarrow$" in tex
    assert "\\scriptsize [" in tex and r"\label{tab:summary}" in tex


def test_category_and_attribute_tables(single) -> None:
    run, out = single
    rows = read_rows(run)
    md = (out / "categories.md").read_text(encoding="utf-8")
    assert "holdout ↑" in md and "oracle/holdout" not in md
    best = _expected_best(rows, "oracle/holdout")
    assert (f"**{best['value']:.3f}**" in md) if best else "**" not in md
    holdout = [r for r in rows if r["metric"] == "oracle/holdout"]
    assert sum(f"] n={r['n']}" in md for r in holdout) >= 1 and md.count(" n=") == md.count("[")  # n in every cell
    assert " n=" not in (out / "summary.md").read_text(encoding="utf-8")  # the headline table keeps its width
    assert "colour ↑" in (out / "attributes.md").read_text(encoding="utf-8")


def test_line_plot_pdfs_are_vector_and_grids_embed_images(single) -> None:
    _, out = single
    for pdf in out.glob("*.pdf"):
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        has_raster = b"/Subtype /Image" in data
        assert has_raster == pdf.name.startswith("grid_"), pdf.name
        assert b"CreationDate" not in data  # reproducible bytes for the committed reports/


class _Refs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v and not v.startswith("data:")]


def test_html_references_only_existing_files(single) -> None:
    _, out = single
    page = (out / "index.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    assert len(parser.refs) > 20
    anchors = [r for r in parser.refs if r.startswith("#")]  # the table of contents
    assert anchors and all(f'id="{r[1:]}"' in page for r in anchors)
    assert [r for r in parser.refs if not r.startswith("#") and not (out / r).is_file()] == []
    assert page.count("<script") == 1 and "http" not in page.split("<body>")[1]  # the inline sort script only
    imgs = [r for r in parser.refs if r.endswith(".png")]
    assert set(imgs) == {p.name for p in out.glob("*.png")}  # every figure is on the page


def test_index_md_links_exist(single) -> None:
    _, out = single
    md = (out / "index.md").read_text(encoding="utf-8")
    import re

    links = re.findall(r"\]\(([^)]+)\)", md)
    assert links and [link for link in links if not (out / link).is_file()] == []
    assert "## Metric vs steps" in md and "## Guidance trade-off" in md and "## Image grids" in md


def test_speedup_at_matched_quality(single) -> None:
    """The matched-quality rule (musebench.report.matched): at 64 images per point without per-image
    outcomes, no point is equivalent within the default margin 0.02 to its family's best, so each
    family keeps its best point and no speed-up is claimed (tests/test_report_matched.py: the rule)."""
    run, out = single
    rows = read_rows(run)
    acc = {(r["model"], json.dumps(r["params"], sort_keys=True)): r["value"] for r in rows if r["metric"] == "oracle/all_correct"}
    ms = {(r["model"], json.dumps(r["params"], sort_keys=True)): r["value"] for r in rows if r["metric"] == "latency/ms_per_image_b1"}
    ddim = {k: v for k, v in acc.items() if '"ddim"' in k[1]}
    muse = {k: v for k, v in acc.items() if k[0] == "muse"}
    best = {name: max(group, key=lambda k: (group[k], -ms[k])) for name, group in (("muse", muse), ("ddim", ddim))}
    with open(out / "speedups.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert {r["quality metric"] for r in table} == {"oracle/all_correct"}  # accuracy only: FID has no margin
    row = next(r for r in table if r["other"] == "ldm (ddim)")
    assert row["reference"] == "muse" and row["N"] == "64" and float(row["margin"]) == 0.02
    assert _params_label(json.loads(best["muse"][1])) == row["reference params"]
    assert _params_label(json.loads(best["ddim"][1])) == row["other params"]
    assert row["verdict"] == "not established" and row["speed-up"] == ""
    assert row["claim"].startswith("not established at N=64, margin 0.02")


def test_where_more_steps_stop_helping(single) -> None:
    run, out = single
    fid = sorted((r for r in read_rows(run) if r["metric"] == "fid/probe" and r["model"] == "muse"
                  and r["params"]["guidance"] == 2.0), key=lambda r: r["params"]["steps"])
    best = min(fid, key=lambda r: r["value"])
    enough = next(r for r in fid if r["ci95"][0] <= best["value"] <= r["ci95"][1])
    with open(out / "saturation.csv", newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["metric"] == "fid/probe" and r["model"] == "muse")
    assert float(row["best at steps"]) == best["params"]["steps"]
    assert float(row["enough steps"]) == enough["params"]["steps"] < best["params"]["steps"]


def test_side_by_side_comparison(compare) -> None:
    a, b, out = compare
    md = (out / "summary.md").read_text(encoding="utf-8")
    header = md.splitlines()[0]
    assert "fid/probe ↓ (before)" in header and "fid/probe ↓ (after)" in header
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert {r["run"] for r in table} == {"before", "after"}
    for run_dir, label in ((a, "before"), (b, "after")):  # best is marked per column, i.e. per run
        for metric in ("fid/probe", "oracle/all_correct"):
            best = _expected_best(read_rows(run_dir), metric)
            marked = [r for r in table if r["run"] == label and r["metric"] == metric and r["best"] == "True"]
            assert [json.loads(r["params"]) for r in marked] == ([best["params"]] if best else [])
    assert (out / "grid_before_muse_steps_0.png").is_file()
    assert not list(out.glob("grid_after_*"))  # that run kept no images: no grid, no error


def test_plots_only_where_the_data_is(tmp_path: Path) -> None:
    """A run with one sweep point and no latency: tables, category bars, nothing else."""
    run = write_run(tmp_path / "run", images=False)
    rows = [r for r in read_rows(run) if r["params"] == {"steps": 8, "guidance": 2.0} and not r["metric"].startswith("latency")]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = build_report([run], tmp_path / "report").parent
    names = {p.name for p in out.iterdir()}
    assert not any(n.startswith(("steps_", "tradeoff_", "pareto_", "grid_")) for n in names)
    assert {"categories_bars.png", "summary.md", "index.html"} <= names
    assert "speedups.csv" not in names
    assert "Metric vs steps" not in (out / "index.html").read_text(encoding="utf-8")


def test_suite_report_section_title_and_plots(tmp_path: Path) -> None:
    """run.json["suite"]["report"]: `title` heads the page, `plots` limits the metric plots."""
    run = write_run(tmp_path / "run", images=False)
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    info["suite"]["report"] = {"title": "Muse on shapes", "grid_prompts": 4, "plots": ["fid/probe"]}
    info["device"] = {"name": "cpu", "cpu": "x86_64", "cpu_count": 2}
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    out = build_report([run], tmp_path / "report").parent
    names = {p.name for p in out.glob("*.png")}
    assert {"steps_fid_probe.png", "pareto_fid_probe.png", "categories_bars.png"} == names
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>Muse on shapes</h1>" in page and "cpu · x86_64" in page


def test_rebuild_replaces_the_previous_report(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", images=False)
    rows = [r for r in read_rows(run) if r["model"] == "muse" and r["params"]["guidance"] == 2.0 and r["metric"] == "fid/probe"]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "report"
    build_report([run], out)
    (out / "stale.png").write_bytes(b"old")
    first = (out / "steps_fid_probe.pdf").read_bytes()
    build_report([run], out)
    assert not (out / "stale.png").exists()
    assert (out / "steps_fid_probe.pdf").read_bytes() == first  # same results, same bytes


def test_figure_cache_reuses_pdfs_of_unchanged_figures_only(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", images=False)
    rows = [r for r in read_rows(run) if r["model"] == "muse" and r["params"]["guidance"] == 2.0 and r["metric"] == "fid/probe"]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cache = tmp_path / "figures"
    build_report([run], tmp_path / "plain")
    build_report([run], tmp_path / "cold", figure_cache=cache)
    stored = sorted(cache.rglob("*.pdf"))
    assert stored  # every rendered PDF was kept
    for p in stored:  # poison the cache: a reused PDF must come from it, byte for byte
        p.write_bytes(p.read_bytes() + b"%cached")
    build_report([run], tmp_path / "warm", figure_cache=cache)
    pdf = "steps_fid_probe.pdf"
    assert (tmp_path / "cold" / pdf).read_bytes() == (tmp_path / "plain" / pdf).read_bytes()  # cache-less == cold
    assert (tmp_path / "warm" / pdf).read_bytes() == (tmp_path / "cold" / pdf).read_bytes() + b"%cached"
    rows[0]["value"] += 5.0  # a changed figure: new PNG, so its PDF is rendered, not reused
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    build_report([run], tmp_path / "changed", figure_cache=cache)
    assert not (tmp_path / "changed" / pdf).read_bytes().endswith(b"%cached")
    assert len(sorted(cache.rglob("*.pdf"))) > len(stored)


def test_figure_cache_skips_figures_drawn_from_the_same_numbers(tmp_path: Path, monkeypatch) -> None:
    from musebench.report import style

    run = write_run(tmp_path / "run")  # every kind of figure: curves, trade-off, Pareto, bars, grids
    cache = tmp_path / "figures"
    build_report([run], tmp_path / "cold", figure_cache=cache)
    renders: list[str] = []
    real = style._render
    monkeypatch.setattr(style, "_render", lambda fig, ext, **kw: renders.append(ext) or real(fig, ext, **kw))
    build_report([run], tmp_path / "warm", figure_cache=cache)
    assert renders == []  # nothing drawn again: every figure came from the cache
    figures = sorted(p.name for p in (tmp_path / "cold").iterdir() if p.suffix in (".png", ".pdf"))
    assert len(figures) >= 20
    assert all((tmp_path / "warm" / f).read_bytes() == (tmp_path / "cold" / f).read_bytes() for f in figures)

    rows = read_rows(run)  # a re-timed run: only the latency numbers change
    for r in rows:
        if r["metric"].startswith("latency/"):
            r["value"] *= 1.5
            r["ci95"] = None if r["ci95"] is None else [v * 1.5 for v in r["ci95"]]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    build_report([run], tmp_path / "changed", figure_cache=cache)
    changed = {f for f in figures if (tmp_path / "changed" / f).read_bytes() != (tmp_path / "cold" / f).read_bytes()}
    assert "steps_latency_ms_per_image_b1.png" in changed and "pareto_oracle_all_correct.png" in changed
    assert "steps_oracle_all_correct.png" not in changed and "categories_bars.png" not in changed
    assert 0 < renders.count("png") == len({f for f in changed if f.endswith(".png")})  # only those re-rendered
    monkeypatch.setattr(style, "_render", real)
    build_report([run], tmp_path / "plain")  # no cache at all: the reference bytes
    assert [f for f in figures if (tmp_path / "changed" / f).read_bytes() != (tmp_path / "plain" / f).read_bytes()] == []


def test_figure_key_covers_what_is_drawn() -> None:
    import numpy as np
    import pandas as pd

    from musebench.report.style import drawn_key

    frame = pd.DataFrame({"steps": [4, 8], "value": [0.5, 0.75]})
    base = drawn_key(("steps", "label", frame))
    assert drawn_key(("steps", "label", frame.copy())) == base
    assert drawn_key(("steps", "label", frame.assign(value=[0.5, 0.7500001]))) != base
    assert drawn_key(("steps", "other label", frame)) != base
    assert drawn_key(("steps", ("label", frame))) != base  # nesting is part of the key
    assert drawn_key(np.zeros((2, 3), np.uint8)) != drawn_key(np.zeros((3, 2), np.uint8))
    with pytest.raises(TypeError):
        drawn_key(object())


# --- bad input: one line, exit 2, nothing written ---------------------------------------------

def test_missing_results_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    run.mkdir()
    out = tmp_path / "out"
    assert main(["report", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("musebench: error: ") and "results.jsonl" in err and "\n" not in err
    assert not out.exists()


def test_invalid_results_line_names_file_and_line(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", images=False)
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"value": ', '"value": "high", "x": ')
    (run / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{run / 'results.jsonl'}:4:" in err and err.count("\n") == 1
    (run / "results.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"results\.jsonl:1: malformed JSON"):
        build_report([run], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_grid_image_is_an_error(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    Path(run / info["images"][2]["path"]).unlink()
    with pytest.raises(MusebenchError, match=r"run\.json: images\[2\]\.path .* does not exist; .*rerun `musebench run`"):
        build_report([run], tmp_path / "out")
    info["images"] = {"not": "a list"}
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"key 'images' must be a list"):
        build_report([run], tmp_path / "out")


def test_out_dir_guard_and_default(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", images=False)
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "thesis.tex").write_text("do not delete", encoding="utf-8")
    with pytest.raises(MusebenchError, match=r"exists and is not a musebench report"):
        build_report([run], keep)
    assert (keep / "thesis.tex").is_file()
    assert main(["report", str(run), str(run)]) == 2
    assert "several RUN_DIRs need --out" in capsys.readouterr().err
    with pytest.raises(MusebenchError, match="the same RUN_DIR is given twice"):
        build_report([run, run], tmp_path / "twice")


def test_cli_help_has_examples(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", "--help"])
    assert info.value.code == 0
    assert "musebench report runs/before runs/after --out" in capsys.readouterr().out


def test_a_killed_builds_staging_folder_is_removed_by_the_next_build(tmp_path):
    """`kill -9` during `musebench report` leaves .NAME.staging-PID behind (benchmarks/kill_safety.py saw
    8 of 8); the next build removes those whose process is gone, and never a live build's."""
    import os
    import subprocess
    import sys

    from musebench.report.build import _remove_stale

    out = tmp_path / "report"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".report.staging-{int(dead.stdout)}"
    live = tmp_path / f".report.staging-{os.getpid()}"
    other = tmp_path / ".report.notes-1"
    for folder in (stale, live, other):
        folder.mkdir()
    _remove_stale(out)
    assert not stale.exists() and live.exists() and other.exists()


@pytest.mark.parametrize("points, marked", [
    ([(0.90, 0.88, 0.92), (0.80, 0.78, 0.82), (0.70, 0.68, 0.72)], [0]),  # clear: the leader's interval is alone
    ([(0.90, 0.85, 0.95), (0.86, 0.80, 0.86), (0.70, 0.68, 0.72)], []),  # touching intervals: not significant
    ([(0.90, 0.88, 0.92), (0.90, 0.88, 0.92), (0.70, 0.68, 0.72)], []),  # a tie
    ([(0.90, math.nan, math.nan), (0.70, 0.68, 0.72)], []),  # the leader has no interval
    ([(0.90, 0.88, 0.92), (0.89, math.nan, math.nan)], []),  # another value inside the leader's interval
    ([(0.90, 0.88, 0.92), (0.80, math.nan, math.nan)], [0]),  # ... outside it
    ([(10.0, 9.0, 11.0), (20.0, 19.0, 21.0)], [0]),  # lower is better (FID): the smaller one, clear
])
def test_bold_only_where_the_best_is_significant(points, marked) -> None:
    from musebench.report.tables import build_table

    higher = points[0][0] < 1.0  # accuracies above, an FID-like metric below
    df = pd.DataFrame([{"run": "r", "model": "m", "params": {"steps": i}, "params_key": f'{{"steps": {i}}}',
                        "params_label": f"steps={i}", "group": "", "metric": "x", "value": v, "n": 100, "lo": lo, "hi": hi,
                        "higher_is_better": higher, "kind": None} for i, (v, lo, hi) in enumerate(points)])
    table = build_table(df, "t", "t", "t")
    assert [i for i, row in enumerate(table.cells) if row[0].best] == marked
    assert table.long["best"].tolist() == [i in marked for i in range(len(points))]


def test_page_has_contents_with_unique_anchors_and_a_sort_script() -> None:
    from musebench.report import page

    _, text = page.render("T", [page.heading("Tables"), page.heading("Results", 3), page.heading("Results", 3),
                                page.heading("FID & KID")])
    ids = re.findall(r'<h[23] id="([^"]+)"', text)
    assert ids == ["tables", "results", "results-2", "fid-kid"]
    nav = text[text.index("<nav"):text.index("</nav>")]
    assert re.findall(r'href="#([^"]+)"', nav) == ids
    assert nav.count("<ul>") == 2  # the two h3s nested under their h2
    assert "<script>" in text and "aria-sort" in text


def test_pdfs_come_at_paper_column_widths_with_embedded_fonts(single) -> None:
    """Issue 22 item 4: each figure's .pdf is 6.9 in wide (double column) and its -1col.pdf 3.3 in
    (single column, at most: a figure whose text cannot shrink may come out narrower), fonts embedded."""
    _, out = single
    doubles = sorted(p for p in out.glob("*.pdf") if not p.name.endswith("-1col.pdf"))
    assert doubles and all((out / p.name.replace(".pdf", "-1col.pdf")).is_file() for p in doubles)
    for pdf in out.glob("*.pdf"):
        data = pdf.read_bytes()
        box = re.search(rb"/MediaBox \[\s*[\d.]+\s+[\d.]+\s+([\d.]+)\s+([\d.]+)", data)
        inches = float(box.group(1)) / 72
        if pdf.name.endswith("-1col.pdf"):
            assert 2.0 <= inches <= 3.32, (pdf.name, inches)
        else:
            assert abs(inches - 6.9) <= 0.02, (pdf.name, inches)
        assert b"/FontFile2" in data and b"/Type3" not in data, pdf.name  # TrueType embedded, no bitmap fonts
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "single column</a>" in page and "double column</a>" in page


def test_grid_images_are_framed_by_the_oracles_verdict(tmp_path: Path) -> None:
    """Issue 22 item 4: the grid marks each image right or wrong and names what was wrong, from the
    run's per-item oracle outcomes (items.jsonl); without items the grid is drawn unmarked."""
    from musebench.report.grids import verdicts
    from musebench.results import load_run

    run = write_run(tmp_path / "run")
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    info["results_schema"] = 2
    prompts = list(dict.fromkeys(image["prompt"] for image in info["images"]))
    for image in info["images"]:  # a seed per prompt, the same at every sweep point (as runs seed)
        image["seed"] = 1000 + prompts.index(image["prompt"])
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    points: dict[str, tuple[dict, list[int]]] = {}
    for image in info["images"]:
        points.setdefault(json.dumps(image["params"], sort_keys=True), (image["params"], []))[1].append(image["seed"])
    lines = []
    for params, seeds in points.values():
        keys = [f"{i}/{seed}" for i, seed in enumerate(sorted(set(seeds)))]
        right = [float(i % 2 == 0) for i in range(len(keys))]  # odd images wrong, by their colour
        lines.append({"model": "muse", "params": params, "metric": "oracle/all_correct", "keys": keys, "values": right})
        lines.append({"model": "muse", "params": params, "metric": "oracle/attribute/colour", "keys": keys, "values": right})
    (run / "items.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with_items = {(json.dumps(line["params"], sort_keys=True), line["metric"]) for line in lines}
    rows = [{**r, "items": "items.jsonl"} if (json.dumps(r["params"], sort_keys=True), r["metric"]) in with_items
            and r["model"] == "muse" else r for r in read_rows(run)]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    found = verdicts(load_run(run).rows)
    assert len(found) == sum(len(set(s)) for _, s in points.values())
    assert {v for v in found.values()} == {(True, ()), (False, ("colour",))}
    out = build_report([run], tmp_path / "report").parent
    md = (out / "index.md").read_text(encoding="utf-8")
    assert "Frames: the oracle's verdict, ✓ blue = every requirement met, ✗ vermillion = not" in md
    assert verdicts(load_run(write_run(tmp_path / "plain")).rows) == {}  # schema 1: no items, no marks


def test_provenance_states_n_seed_margin_command_and_checkpoints(tmp_path: Path) -> None:
    """Issue 22 item 3: the page's Runs table says N, the seed, the equivalence margin, the exact command,
    each model's fingerprint and the commit with its dirty flag, from run.json."""
    run = write_run(tmp_path / "run", images=False)
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    info["suite"].update({"seed": 7, "prompts": {"limit": 2000, "images_per_prompt": 1},
                          "report": {"equivalence_margin": 0.02}})
    info.update({"argv": ["__main__.py", "run", "suites/x.yaml", "--out", "runs/x"], "git_dirty": True,
                 "models": {"muse": {"fingerprint": "f" * 64}, "ldm": {"fingerprint": "e" * 64}}})
    (run / "run.json").write_text(json.dumps(info), encoding="utf-8")
    out = build_report([run], tmp_path / "report").parent
    with open(out / "runs.csv", newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert row["prompts × images"] == "2000 × 1" and row["seed"] == "7" and row["equivalence margin"] == "0.02"
    assert row["command"] == "musebench run suites/x.yaml --out runs/x"
    assert row["checkpoints (sha256, 12)"] == f"muse: {'f' * 12}; ldm: {'e' * 12}"
    assert row["git commit"].endswith("(dirty)")


def test_each_fid_sits_beside_its_floor_and_no_figure_draws_the_floor(tmp_path: Path) -> None:
    """issue 22: "each FID sits next to its floor" (metrics/fid.py extra.floor, real vs real at the same N)."""
    from musebench.report.data import load_runs

    run = write_run(tmp_path / "run")
    rows = read_rows(run)
    fids = [r for r in rows if r["metric"] == "fid/probe"]
    for i, r in enumerate(fids):
        r["extra"] = {**r["extra"], "floor": 0.25 if i else None}  # the first without one: no floor cell
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    _, df = load_runs([run])
    floors = df[df["metric"] == "floor of fid/probe"]
    assert len(floors) == len(fids) - 1 and set(floors["value"]) == {0.25} and set(floors["kind"]) == {"floor"}
    out = build_report([run], tmp_path / "report").parent
    with open(out / "fid_floors.csv", newline="", encoding="utf-8") as f:
        metrics = {r["metric"] for r in csv.DictReader(f)}  # long format: one row per cell
    assert metrics == {"fid/probe", "floor of fid/probe"}
    assert "| fid/probe ↓ | floor of fid/probe ↓ |" in (out / "fid_floors.md").read_text(encoding="utf-8")
    assert not any("floor" in p.name for p in out.glob("*.png"))  # a table, not a curve or a Pareto front
