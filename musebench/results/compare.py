"""Two runs on the same prompts and seeds, row by row: the paired test each kind of metric needs.

Rows pair by (model, sweep point params, metric) present in both runs; per-item outcomes pair on
their common keys ("<prompt index>/<seed>", "repeat/<i>"). Tests (../shared/STATISTICS.md):

    binary items (oracle)       exact McNemar, Newcombe interval of the paired difference B - A
    latency/* (timing repeats)  paired bootstrap of the ratio of medians B / A, permutation p
    other per-item scores       paired bootstrap of the difference of means B - A (CLIP score)
    fid/*, kid/*                basic bootstrap over both image sets of B - A, the reference held fixed,
                                from the features kept in RUN_DIR/features/ (compare_setlevel.py); the
                                sets are resampled prompt by prompt when both rows hold the same items
                                (same prompts and seeds), independently otherwise;
                                rows without them (keep_features: false, older runs): B - A only
    rows without items          B - A with both rows' own intervals, no test (unpaired)

Each kind of test is one family; its p-values are Holm-adjusted within the family (the family is
named in the output), so "significant" means adjusted p < 0.05 among everything printed of that kind.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from musebench.errors import MusebenchError
from musebench.results.compare_setlevel import has_features, not_comparable, set_level_test
from musebench.results.run_dir import RunData
from musebench.results.schema import PROTOCOL_KEYS, ResultRow, format_params

ALPHA = 0.05
ROUNDS, SEED = 2000, 0  # bootstrap / permutation rounds and seed: fixed, so a compare is reproducible
SET_LEVEL = ("fid/", "kid/")

# kind -> (family description, test); the order is the order of the table
FAMILIES = {
    "mcnemar": ("binary per-item rows (oracle)", "exact McNemar"),
    "ratio": ("latency rows, timing repeats paired", "paired bootstrap, ratio of medians B/A"),
    "bootstrap": ("per-item score rows (CLIP score)", "paired bootstrap, difference of means B-A"),
    "set-level": ("set-level metrics (FID, KID)", "basic bootstrap over both image sets (paired by prompt where both rows hold the same items), "
                  "difference B-A, reference held fixed"),
    "unpaired": ("rows without per-item outcomes", "none"),
}


@dataclass(frozen=True)
class Comparison:
    model: str
    params: dict
    metric: str
    kind: str  # a key of FAMILIES
    a: float  # run A's value
    b: float
    a_ci95: tuple[float, float] | None
    b_ci95: tuple[float, float] | None
    diff: float  # B - A; for kind "ratio", B / A
    ci95: tuple[float, float] | None  # of diff; None without a paired test
    higher_is_better: bool
    n: int | None = None  # pairs tested
    p_value: float | None = None  # two-sided
    p_holm: float | None = None  # Holm-adjusted within the kind's family
    method: str = ""
    note: str = ""

    @property
    def verdict(self) -> str:
        """"B better" / "B worse" when the adjusted p says so, else "-" (never "equal")."""
        if self.p_holm is None or self.p_holm >= ALPHA:
            return "-"
        up = self.diff > (1.0 if self.kind == "ratio" else 0.0)
        return "B better" if up == self.higher_is_better else "B worse"


@dataclass(frozen=True)
class CompareReport:
    run_a: str
    run_b: str
    comparisons: tuple[Comparison, ...]
    families: tuple[dict, ...]  # {"kind", "name", "test", "size"} for each family with a test
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        rows = [{**asdict(c), "verdict": c.verdict} for c in self.comparisons]
        return {"run_a": self.run_a, "run_b": self.run_b, "alpha": ALPHA, "families": list(self.families),
                "notes": list(self.notes), "comparisons": rows}


def _check_runs(a: RunData, b: RunData) -> None:
    for run in (a, b):
        if not any(row.items is not None or has_features(row) for row in run.rows):
            raise MusebenchError(
                f"{run.run_dir}: no per-item outcomes (results schema {run.schema}); rerun `musebench run` "
                "with this musebench to compare it paired"
            )
    if a.suite_name != b.suite_name:
        raise MusebenchError(f"{b.run_dir}: a run of suite '{b.suite_name}' but {a.run_dir} is of suite "
                             f"'{a.suite_name}'; compare two runs of the same suite")


def _agree(pa: dict, pb: dict) -> bool:
    """Two sweep points that agree on every parameter both name (one run set, say, guidance=0 everywhere)."""
    return all(pa[k] == pb[k] for k in pa.keys() & pb.keys())


def _changed_pairs(a_rows: list[ResultRow], b_rows: list[ResultRow]) -> list[tuple[ResultRow, ResultRow]]:
    """Rows left unpaired by exact key, paired one to one by (model, metric) and agreeing params:
    the comparison a user makes with `--set models.M.params.guidance=0` on one of the two runs."""
    pairs = []
    for ra in a_rows:
        found = [rb for rb in b_rows if (rb.model, rb.metric) == (ra.model, ra.metric) and _agree(ra.params, rb.params)]
        back = [r for r in a_rows if (r.model, r.metric) == (ra.model, ra.metric) and found and _agree(r.params, found[0].params)]
        if len(found) == 1 and len(back) == 1:
            pairs.append((ra, found[0]))
    return pairs


def _pairs(a: RunData, b: RunData, pattern: str | None) -> tuple[list[tuple[ResultRow, ResultRow]], list[str]]:
    """Rows present in both runs (filtered by the glob `pattern`), and notes on the others."""
    chosen = lambda row: pattern is None or fnmatch.fnmatchcase(row.metric, pattern)  # noqa: E731
    in_b = {row.key: row for row in b.rows if chosen(row)}
    keys_a = {row.key for row in a.rows}
    pairs = [(row, in_b[row.key]) for row in a.rows if row.key in in_b and chosen(row)]
    rest_a = [row for row in a.rows if row.key not in in_b and chosen(row)]
    rest_b = [row for row in b.rows if row.key not in keys_a and chosen(row)]
    changed = _changed_pairs(rest_a, rest_b)
    pairs += changed
    notes = []
    if changed:
        settings = sorted({f"{k}={rb.params[k]!r}" for _, rb in changed for k in rb.params.keys() - _.params.keys()}
                          | {f"{k}: {ra.params[k]!r} -> {rb.params[k]!r}" for ra, rb in changed
                             for k in ra.params.keys() & rb.params.keys() if ra.params[k] != rb.params[k]})
        notes.append(f"{len(changed)} rows paired across changed settings (B: {', '.join(settings)}); params shown are A's")
    only_a, only_b = len(rest_a) - len(changed), len(rest_b) - len(changed)
    if only_a or only_b:
        notes.append(f"rows in one run only, not compared: {only_a} only in A, {only_b} only in B")
    if not pairs:
        what = f"matching --metrics {pattern!r} " if pattern else ""
        raise MusebenchError(f"{b.run_dir}: no (model, params, metric) rows {what}in common with {a.run_dir}; "
                             "compare two runs of the same suite and sweep")
    return pairs, notes


def _kind(ra: ResultRow, rb: ResultRow) -> str:
    if ra.items is None or rb.items is None:
        return "set-level" if ra.metric.startswith(SET_LEVEL) else "unpaired"
    if ra.metric.startswith("latency/"):
        return "ratio"
    binary = all(v in (0.0, 1.0) for v in (*ra.items.values(), *rb.items.values()))
    return "mcnemar" if binary else "bootstrap"


def _protocol_note(ra: ResultRow, rb: ResultRow) -> str:
    for key in PROTOCOL_KEYS:
        if key in ra.extra and key in rb.extra and ra.extra[key] != rb.extra[key]:
            return f"not comparable: {key} {ra.extra[key]!r} in A, {rb.extra[key]!r} in B"
    return ""


def _test(kind: str, xs: list[float], ys: list[float]) -> dict:
    """The paired test of one row: diff, ci95, p_value, method (and the pairs it used)."""
    from musebench.stats.paired import mcnemar_exact, paired_bootstrap, paired_ratio_bootstrap

    if kind == "mcnemar":
        r = mcnemar_exact([x == 1.0 for x in xs], [y == 1.0 for y in ys])
        method = f"exact McNemar ({r.a_only} right in A only, {r.b_only} in B only); CI: {r.method}"
        return {"diff": r.diff, "ci95": tuple(r.ci95), "p_value": r.p_value, "method": method}
    test = paired_ratio_bootstrap if kind == "ratio" else paired_bootstrap
    r = test(xs, ys, rounds=ROUNDS, seed=SEED)
    return {"diff": r.diff, "ci95": tuple(r.ci95), "p_value": r.p_value, "method": r.method}


def _set_level(base: Comparison, ra: ResultRow, rb: ResultRow, dirs: tuple[Path, Path]) -> Comparison:
    """FID/KID rows with kept features: the bootstrap over both image sets, or why it was not run."""
    reason = not_comparable(ra, rb)
    if reason:
        return replace(base, kind="unpaired", note=reason)
    try:
        result = set_level_test(ra, rb, *dirs)
    except MusebenchError as exc:  # e.g. a features file missing: say so on the row, test the others
        return replace(base, note=f"not tested: {exc}")
    note = "" if ra.n == rb.n else f"{ra.n} images in A, {rb.n} in B"
    return replace(base, **result, note=note)


def compare_rows(ra: ResultRow, rb: ResultRow, dirs: tuple[Path, Path] | None = None) -> Comparison:
    """One row pair -> Comparison (p_holm is filled in later, per family). `dirs`: the two run directories,
    where set-level rows' kept features are (without them those rows get B - A only)."""
    kind = _kind(ra, rb)
    base = Comparison(model=ra.model, params=ra.params, metric=ra.metric, kind=kind, a=ra.value, b=rb.value,
                      a_ci95=ra.ci95, b_ci95=rb.ci95, diff=rb.value - ra.value, ci95=None,
                      higher_is_better=ra.higher_is_better)
    protocol = _protocol_note(ra, rb)
    if kind == "set-level" and not protocol and dirs is not None and has_features(ra) and has_features(rb):
        return _set_level(base, ra, rb, dirs)
    if kind in ("set-level", "unpaired") or protocol:
        note = protocol or ("set-level: bootstrap over both image sets needs features" if kind == "set-level"
                            else "unpaired: no per-item outcomes")
        return replace(base, note=note, kind="unpaired" if protocol else kind)
    common = [key for key in ra.items if key in rb.items]
    total = max(len(ra.items), len(rb.items))
    note = "" if len(common) == total else f"paired on {len(common)} of {total} items (the others are in one run only)"
    if len(common) < 2:
        return replace(base, note=f"{len(common)} item(s) in common: nothing to pair")
    xs, ys = [ra.items[k] for k in common], [rb.items[k] for k in common]
    try:
        result = _test(kind, xs, ys)
    except MusebenchError as exc:  # e.g. a non-finite score: say so on the row, test the others
        return replace(base, note=f"not tested: {exc}")
    return replace(base, **result, n=len(common), note=note)


def _adjust(comparisons: list[Comparison], pattern: str | None) -> tuple[list[Comparison], list[dict]]:
    """Holm within each kind's family; the families, named, with their sizes."""
    from musebench.stats.multiple import holm

    adjusted, families = list(comparisons), []
    scope = f"with metric matching {pattern!r}" if pattern else "of the two runs"
    for kind, (name, test) in FAMILIES.items():
        index = [i for i, c in enumerate(comparisons) if c.kind == kind and c.p_value is not None]
        if not index:
            continue
        for i, p in zip(index, holm([comparisons[i].p_value for i in index])):
            adjusted[i] = replace(comparisons[i], p_holm=p)
        families.append({"kind": kind, "name": f"all {name} {scope}", "test": test, "size": len(index)})
    return adjusted, families


def compare_runs(a: RunData, b: RunData, pattern: str | None = None) -> CompareReport:
    """Run A versus run B: every common row compared, p-values Holm-adjusted per family."""
    _check_runs(a, b)
    pairs, notes = _pairs(a, b, pattern)
    with_items = [(ra, rb) for ra, rb in pairs if ra.items is not None and rb.items is not None]
    if with_items and not any(set(ra.items) & set(rb.items) for ra, rb in with_items):
        raise MusebenchError(f"{b.run_dir}: no prompts and seeds in common with {a.run_dir} (no per-item key "
                             "matches); compare two runs of the same prompts and suite seed")
    dirs = (a.run_dir, b.run_dir)
    comparisons, families = _adjust([compare_rows(ra, rb, dirs) for ra, rb in pairs], pattern)
    return CompareReport(run_a=str(a.run_dir), run_b=str(b.run_dir), comparisons=tuple(comparisons),
                         families=tuple(families), notes=tuple(notes))



HEADER = ("metric", "model", "params", "A", "B", "B-A [95% CI]", "n", "p", "p (Holm)", "verdict", "note")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _with_ci(value: float, ci: tuple[float, float] | None) -> str:
    return _num(value) if ci is None else f"{_num(value)} [{_num(ci[0])}, {_num(ci[1])}]"


def _cells(c: Comparison) -> tuple[str, ...]:
    diff = f"x{_num(c.diff)}" if c.kind == "ratio" else f"{c.diff:+.4g}"
    return (c.metric, c.model, format_params(c.params), _with_ci(c.a, c.a_ci95), _with_ci(c.b, c.b_ci95),
            diff if c.ci95 is None else f"{diff} [{_num(c.ci95[0])}, {_num(c.ci95[1])}]",
            _num(c.n), _num(c.p_value), _num(c.p_holm), c.verdict, c.note)


def render(report: CompareReport) -> str:
    """One aligned table per family (named, with its test), then the notes and a summary line."""
    lines = [f"A = {report.run_a}", f"B = {report.run_b}"]
    for kind, (name, test) in FAMILIES.items():
        rows = [c for c in report.comparisons if c.kind == kind]
        if not rows:
            continue
        family = next((f for f in report.families if f["kind"] == kind), None)
        title = f"{family['name']}: {test}, Holm over these {family['size']} tests" if family else f"{name}: no paired test"
        body = [HEADER] + [_cells(c) for c in rows]
        widths = [max(len(r[i]) for r in body) for i in range(len(HEADER))]
        lines += ["", title] + ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in body]
    lines += [""] + [f"note: {note}" for note in report.notes]
    found = [c for c in report.comparisons if c.verdict != "-"]
    lines.append(f"{len(report.comparisons)} rows compared; {len(found)} differ at Holm-adjusted p < {ALPHA} "
                 f"(B - A; latency B / A){': ' + ', '.join(f'{c.metric} ({c.model}) {c.verdict}' for c in found) if found else ''}")
    return "\n".join(lines)
