"""Table rules on small hand-made rows: direction of 'best' (bold only where significantly best), ties,
NaN, gaps, escaping."""

from __future__ import annotations

import math

import pandas as pd

from musebench.report.data import COLUMNS, group_of, params_key
from musebench.report.tables import build_table, to_csv, to_html, to_latex, to_markdown


def _rows(*specs) -> pd.DataFrame:
    """(run, model, params, metric, value, ci or None, higher_is_better) -> long rows."""
    out = []
    for run, model, params, metric, value, ci, hib in specs:
        lo, hi = ci if ci else (math.nan, math.nan)
        out.append({"run": run, "model": model, "params": params, "params_key": params_key(params),
                    "params_label": " ".join(f"{k}={params[k]}" for k in sorted(params)), "group": group_of(model, params),
                    "metric": metric, "value": value, "n": 10, "lo": lo, "hi": hi, "higher_is_better": hib, "kind": None})
    return pd.DataFrame(out, columns=list(COLUMNS))


def test_best_follows_direction_ties_and_skips_nan() -> None:
    df = _rows(
        ("r", "muse", {"steps": 2}, "fid/probe", 9.0, (8.6, 9.4), False),
        ("r", "muse", {"steps": 12}, "fid/probe", 7.5, (7.0, 8.0), False),
        ("r", "ldm", {"steps": 50}, "fid/probe", math.nan, None, False),
        ("r", "muse", {"steps": 2}, "oracle/all_correct", 0.5, None, True),
        ("r", "muse", {"steps": 12}, "oracle/all_correct", 0.9, None, True),
        ("r", "ldm", {"steps": 50}, "oracle/all_correct", 0.9, None, True),
    )
    table = build_table(df, "t", "T", "caption")
    md = to_markdown(table)
    lines = md.splitlines()
    assert lines[0] == "| model | params | fid/probe ↓ | oracle/all\\_correct ↑ |"
    assert lines[2] == "| muse | steps=2 | 9.000 [8.600, 9.400] | 0.500 |"
    assert lines[3] == "| muse | steps=12 | **7.500** [7.000, 8.000] | 0.900 |"  # numeric order: 2 < 12; lower is better
    assert lines[4] == "| ldm | steps=50 | nan | 0.900 |"  # a tie is not significant; nan never
    csv_text = to_csv(table)
    assert csv_text.count(",True\n") == 1
    assert "<strong>7.500</strong>" in to_html(table)


def test_missing_cells_and_latex_escaping() -> None:
    df = _rows(
        ("r", "muse", {"sched": "a_b"}, "clip_score/probe_100%", 25.0, (24.5, 25.5), True),
        ("r", "muse", {"sched": "c"}, "clip_score/probe_100%", 24.0, None, True),
        ("r", "ldm", {"sched": "x&y"}, "fid/probe", 12.0, None, False),
    )
    table = build_table(df, "t", "T", "50% of #1")
    md = to_markdown(table)
    assert "| muse | sched=a\\_b | **25.00** [24.50, 25.50] | – |" in md
    tex = to_latex(table)
    assert r"sched=a\_b" in tex and r"sched=x\&y" in tex and r"probe\_100\%" in tex
    assert r"\caption{50\% of \#1}" in tex and "--" in tex


def test_side_by_side_columns_per_run() -> None:
    df = _rows(
        ("old", "muse", {"steps": 8}, "fid/probe", 10.0, None, False),
        ("new", "muse", {"steps": 8}, "fid/probe", 11.0, None, False),
    )
    table = build_table(df, "t", "T", "c")
    assert [c[:2] for c in table.columns] == [("fid/probe", "old"), ("fid/probe", "new")]
    assert to_markdown(table).splitlines()[2] == "| muse | steps=8 | 10.00 | 11.00 |"  # one row per column: no best


def test_all_equal_column_has_no_best() -> None:
    df = _rows(
        ("r", "muse", {"steps": 2}, "oracle/counting", 0.0, (0.0, 0.79), True),
        ("r", "muse", {"steps": 4}, "oracle/counting", 0.0, (0.0, 0.79), True),
        ("r", "muse", {"steps": 2}, "fid/probe", 9.0, None, False),
        ("r", "muse", {"steps": 4}, "fid/probe", 8.0, (7.5, 8.5), False),
    )
    md = to_markdown(build_table(df, "t", "T", "c"))
    assert md.count("**") == 2 and "**8.000** [7.500, 8.500]" in md


def test_small_columns_keep_two_leading_digits():
    """A KID column (values ~1e-5) must not print as 0.000; ordinary columns keep 1-3 decimals."""
    import pandas as pd

    from musebench.report.tables import _decimals

    assert _decimals(pd.Series([0.00096, 0.0000270])) == 5  # 0.00096 -> "0.00096"
    assert _decimals(pd.Series([8.0e-6, float("nan")])) == 7
    assert _decimals(pd.Series([0.886, 0.009])) == 3 and _decimals(pd.Series([82.8])) == 2
    assert _decimals(pd.Series([177.2])) == 1 and _decimals(pd.Series([0.0, 0.0])) == 3
