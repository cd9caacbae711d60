"""Result tables: one row per (model, sweep point), one column per metric (per run, side by side).

Each cell is `value [lo, hi]` (the row's ci95; no brackets where the metric has none). The best
value of a column (by the metric's `higher_is_better`) is bold (`**` in Markdown, `\\textbf` in
LaTeX, `<strong>` in HTML) only where it is significantly best: it has a 95 % interval, and that
interval overlaps no other row's interval (nor contains another row's value, for a row without one).
Non-overlapping 95 % intervals are a conservative test (at most p ~ 0.006 for two normal estimates;
Schenker & Gentleman 2001); `musebench compare` gives the paired test. A tie, a best without an
interval, NaN, or a column with one row or all values equal gets no bold. Written via pandas as CSV (long
form, machine-readable, with a `best` column), LaTeX (booktabs rules: `\\toprule`, `\\midrule`,
`\\bottomrule`) and Markdown. Column decimals follow the column's magnitude (FID 23.4, accuracy 0.912).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from musebench.cache.atomic import write_atomic_text
from musebench.report.data import params_key

ARROW = {True: ("↑", r"$\uparrow$"), False: ("↓", r"$\downarrow$")}
_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


@dataclass(frozen=True)
class Cell:
    value: float
    lo: float  # nan when the metric has no interval
    hi: float
    best: bool
    decimals: int
    n: int | None = None  # images behind the value, shown where the table says so (show_n)


@dataclass(frozen=True)
class Table:
    stem: str  # file name stem: summary -> summary.md / .tex / .csv
    title: str
    caption: str
    columns: tuple[tuple[str, str, bool], ...]  # (metric, run or "", higher_is_better)
    index: tuple[tuple[str, str], ...]  # (model, params label) per row
    cells: tuple[tuple[Cell | None, ...], ...]  # [row][column]
    long: pd.DataFrame  # the rows behind the table, with a `best` column (the CSV)
    show_n: bool = False  # each cell also says its n (per-category tables: small cells are visible as such)


def build_table(df: pd.DataFrame, stem: str, title: str, caption: str, strip_prefix: bool = False,
                show_n: bool = False) -> Table:
    """Long rows (musebench.report.data.COLUMNS) -> Table; several runs become side-by-side columns."""
    several = df["run"].nunique() > 1
    df = df.assign(col_run=df["run"] if several else "")  # "": one run, no run in headers
    columns = _columns(df)
    index = _index(df)
    lookup = {(r.model, r.params_key, r.metric, r.col_run): r for r in df.itertuples()}
    best = _best_values(df)
    decimals = {(m, run): _decimals(df[(df["metric"] == m) & (df["col_run"] == run)]["value"]) for m, run, _ in columns}
    cells = []
    for model, pkey, _ in index:
        row = []
        for metric, run, _ in columns:
            r = lookup.get((model, pkey, metric, run))
            if r is None:
                row.append(None)
                continue
            is_best = not math.isnan(r.value) and r.value == best.get((metric, run))
            n = int(r.n) if r.n is not None and not (isinstance(r.n, float) and math.isnan(r.n)) else None
            row.append(Cell(r.value, r.lo, r.hi, is_best, decimals[(metric, run)], n))
        cells.append(tuple(row))
    long = df.drop(columns=["col_run"]).assign(
        best=[not math.isnan(r.value) and r.value == best.get((r.metric, r.col_run)) for r in df.itertuples()]
    )
    shown = tuple((m.rsplit("/", 1)[1] if strip_prefix else m, run, hib) for m, run, hib in columns)  # oracle/attribute/colour -> colour
    return Table(stem, title, caption, shown, tuple((m, label) for m, _, label in index), tuple(cells), long, show_n)


def _columns(df: pd.DataFrame) -> list[tuple[str, str, bool]]:
    first = df.drop_duplicates(["metric", "col_run"])
    metrics = list(dict.fromkeys(df["metric"]))  # results.jsonl order: the runner's metric order
    runs = list(dict.fromkeys(df["col_run"]))
    hib = {m: bool(h) for m, h in zip(first["metric"], first["higher_is_better"])}
    return [(m, run, hib[m]) for m in metrics for run in runs if ((first["metric"] == m) & (first["col_run"] == run)).any()]


def _index(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    points = df.drop_duplicates(["model", "params_key"])
    ordered = sorted(points.itertuples(), key=lambda r: (_model_order(df, r.model), _params_sort_key(r.params)))
    return [(r.model, r.params_key, r.params_label) for r in ordered]


def _model_order(df: pd.DataFrame, model: str) -> int:
    return list(dict.fromkeys(df["model"])).index(model)


def _params_sort_key(params: dict) -> tuple:
    """Numbers sort as numbers (steps 2 < 12), other values as text; key order is irrelevant."""
    key = []
    for name in sorted(params):
        value = params[name]
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        key.append((name, (0, float(value), "") if numeric else (1, 0.0, params_key({"v": value}))))
    return tuple(key)


def _best_values(df: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(metric, run) -> the column's best value, for the columns whose best is significantly best."""
    best = {}
    for (metric, run), group in df.groupby(["metric", "col_run"], sort=False):
        finite = group[group["value"].map(math.isfinite)]
        if finite["value"].nunique() < 2:  # one value, or all equal: nothing is better than anything else
            continue
        higher = bool(group["higher_is_better"].iloc[0])
        top = finite["value"].max() if higher else finite["value"].min()
        leader = finite[finite["value"] == top]
        if len(leader) == 1 and _separated(leader.iloc[0], finite.drop(leader.index), higher):
            best[(metric, run)] = top
    return best


def _separated(leader, others: pd.DataFrame, higher: bool) -> bool:
    """The leader's 95 % interval lies beyond every other row's interval (or value, where it has none)."""
    if not (math.isfinite(leader["lo"]) and math.isfinite(leader["hi"])):
        return False
    for row in others.itertuples():
        near = row.hi if higher else row.lo  # the other row's edge facing the leader
        near = row.value if not math.isfinite(near) else near
        if (near >= leader["lo"]) if higher else (near <= leader["hi"]):
            return False
    return True


def _decimals(values: pd.Series) -> int:
    """Decimals for a column: 1-3 by magnitude, and for a column whose largest value is below 0.01 (KID,
    FID in a compact feature space) enough for its two leading digits, so it never prints as 0.000."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=0.0)
    if 0.0 < top < 0.01:
        return min(1 - math.floor(math.log10(top)), 8)
    return 1 if top >= 100 else 2 if top >= 10 else 3


def _num(x: float, decimals: int) -> str:
    return "nan" if math.isnan(x) else f"{x:.{decimals}f}"


def _interval(cell: Cell, show_n: bool = False) -> str:
    """"[lo, hi]" (nothing without an interval), then " n=64" where the table shows n."""
    n = f"n={cell.n}" if show_n and cell.n is not None else ""
    if math.isnan(cell.lo) or math.isnan(cell.hi):
        return n
    return f"[{_num(cell.lo, cell.decimals)}, {_num(cell.hi, cell.decimals)}]" + (f" {n}" if n else "")


def _header(metric: str, run: str, hib: bool, flavour: int) -> str:
    arrow = ARROW[hib][flavour]
    return f"{metric} {arrow} ({run})" if run else f"{metric} {arrow}"


def to_markdown(table: Table) -> str:
    header = ["model", "params"] + [_header(m, r, h, 0) for m, r, h in table.columns]
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "---|" * 2 + "---:|" * len(table.columns)]
    for (model, label), row in zip(table.index, table.cells):
        cells = [_md_escape(model), _md_escape(label)]
        for cell in row:
            if cell is None:
                cells.append("–")
                continue
            value = _num(cell.value, cell.decimals)
            cells.append(f"{'**' + value + '**' if cell.best else value} {_interval(cell, table.show_n)}".strip())
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", r"\|").replace("*", r"\*").replace("_", r"\_")


def to_latex(table: Table) -> str:
    """booktabs LaTeX through pandas (escape=False: cells are escaped here, bold added here)."""
    rows = []
    for (model, label), row in zip(table.index, table.cells):
        cells = [_tex_escape(model), _tex_escape(label)]
        for cell in row:
            if cell is None:
                cells.append("--")
                continue
            value = _num(cell.value, cell.decimals)
            value = rf"\textbf{{{value}}}" if cell.best else value
            interval = _interval(cell, table.show_n)
            cells.append(f"{value} {{\\scriptsize {interval}}}" if interval else value)
        rows.append(cells)
    header = ["model", "params"] + [_tex_escape(_header(m, r, h, 0)).replace("↑", ARROW[True][1]).replace("↓", ARROW[False][1])
                                    for m, r, h in table.columns]
    frame = pd.DataFrame(rows, columns=header)
    return frame.to_latex(index=False, escape=False, column_format="ll" + "r" * len(table.columns),
                          caption=_tex_escape(table.caption), label=f"tab:{table.stem}")


def _tex_escape(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)


def to_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["model", "params"] + [_header(m, r, h, 0) for m, r, h in table.columns])
    body = []
    for (model, label), row in zip(table.index, table.cells):
        cells = [f"<td>{html.escape(model)}</td>", f"<td>{html.escape(label)}</td>"]
        for cell in row:
            if cell is None:
                cells.append('<td class="num">–</td>')
                continue
            value = _num(cell.value, cell.decimals)
            value = f"<strong>{value}</strong>" if cell.best else value
            interval = _interval(cell, table.show_n)
            ci = f' <span class="ci">{interval}</span>' if interval else ""
            cells.append(f'<td class="num{" best" if cell.best else ""}">{value}{ci}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(body) + "\n</tbody>\n</table>\n"


def to_csv(table: Table) -> str:
    long = table.long.assign(params=table.long["params_key"])
    long = long.rename(columns={"lo": "ci95_lo", "hi": "ci95_hi"})
    cols = ["run", "model", "params", "metric", "value", "ci95_lo", "ci95_hi", "n", "higher_is_better", "best"]
    return long[cols].to_csv(index=False, lineterminator="\n")


def write_table(table: Table, out_dir: Path) -> dict[str, str]:
    """table.md / .tex / .csv in out_dir (atomic); returns {format: file name}."""
    files = {}
    for ext, text in (("md", to_markdown(table)), ("tex", to_latex(table)), ("csv", to_csv(table))):
        files[ext] = write_atomic_text(out_dir / f"{table.stem}.{ext}", text).name
    return files
