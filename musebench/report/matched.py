"""Speed-up at matched quality as an equivalence statement: one rule for every family (issue 21).

The rule (../shared/STATISTICS.md: "matched" is a TOST within a margin declared before looking, a
choice among settings says its rule and applies it to every system alike, and a difference inside
its own interval never breaks a tie):
1. a family's best point: the highest accuracy;
2. its points equivalent to that best: TOST within the margin (Schuirmann 1987; Lakens 2017), paired
   on the common items when both rows have per-item outcomes (musebench.stats.equivalence
   .tost_paired_proportions), else on independent proportions from n and value * n
   (tost_independent_proportions); Holm-adjusted over the family's points (Holm 1979), since every
   extra sweep setting is another chance to find a fast "equivalent" one;
3. of the best and the points equivalent to it, the fastest (median latency): the other family's
   (the baseline's) chosen point: its fastest setting at its own best quality;
4. the reference (Muse) then answers "how fast at that quality": its fastest point that is not worse
   than the baseline's chosen point by more than the margin (non-inferiority: the lower limit of the
   (1 - 2 alpha') interval of reference - other above -margin, alpha' = alpha / k, Bonferroni over the
   reference's k points, since each extra setting is another chance to find a fast match). Its
   verdict: "equivalent" (TOST), "better" (lower limit above 0) or "non-inferior" (neither shown,
   but not worse by the margin). Otherwise no speed-up is claimed:
"not established at N=..., margin ..." (or "worse", when the interval lies below 0). Fewer prompts
widen every interval, so they shrink the equivalent sets and fail the match: they can no longer
make the claimed speed-up larger.

The speed-up is other / reference median latency with an interval: an unpaired bootstrap of the
ratio of medians when both rows carry per-repeat latencies (repeats of two models are not paired),
else the two 95 % latency intervals combined conservatively, [lo_o / hi_r, hi_o / lo_r].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from musebench.stats.equivalence import Equivalence, tost_independent_proportions, tost_paired_proportions
from musebench.stats.multiple import holm
from musebench.stats.paired import two_sample_bootstrap

DEFAULT_MARGIN = 0.02  # accuracy points (2 %): when the suite declares none (runs before the key existed)
ALPHA = 0.05  # each one-sided test of the TOST: a 90 % interval inside (-margin, margin)
LATENCY_ROUNDS = 2000
LATENCY_SEED = 0


@dataclass(frozen=True)
class Point:
    """One sweep point of a family: its accuracy and its batch-1 latency."""

    label: str  # the sweep point, e.g. "guidance=3.0 scheduler=ddim steps=25"
    quality: float  # fraction correct, k / n
    n: int | None  # images behind `quality`
    items: dict[str, float] | None  # "<prompt index>/<seed>" -> 0/1, or None (schema 1, or none kept)
    ms: float  # median latency, ms per image
    ms_ci: tuple[float, float] | None = None  # its 95 % interval
    ms_repeats: tuple[float, ...] | None = None  # per-repeat latencies, ms


@dataclass(frozen=True)
class Choice:
    """A family's point chosen by the rule, and the points it was chosen among."""

    best: Point  # highest accuracy
    chosen: Point  # the fastest of `tied`
    tied: tuple[Point, ...]  # best and every point equivalent to it (Holm-adjusted TOST)


@dataclass(frozen=True)
class Verdict:
    status: str  # "equivalent" | "better" | "non-inferior" | "worse" | "not established"
    text: str  # what the report prints in place of, or beside, the speed-up
    test: Equivalence | None  # diff = reference - other; None when no test was possible


@dataclass(frozen=True)
class Ratio:
    value: float  # other / reference latency: how many times faster the reference is
    ci95: tuple[float, float] | None
    method: str


@dataclass(frozen=True)
class Matched:
    reference: Choice
    other: Choice
    verdict: Verdict
    ratio: Ratio | None  # None unless the verdict is "equivalent" or "better"
    margin: float


def _common(a: Point, b: Point) -> list[str]:
    """The items both points were scored on (same prompt and seed), [] when either kept none."""
    return sorted(set(a.items) & set(b.items)) if a.items and b.items else []


def accuracy_test(a: Point, b: Point, margin: float, alpha: float = ALPHA) -> Equivalence | None:
    """TOST of b - a within +-margin: paired on common items when both have items, else independent."""
    common = _common(a, b)
    if common:
        return tost_paired_proportions([bool(a.items[k]) for k in common], [bool(b.items[k]) for k in common],
                                       margin, alpha)
    if not a.n or not b.n:
        return None
    return tost_independent_proportions(round(a.quality * a.n), a.n, round(b.quality * b.n), b.n, margin, alpha)


def choose(points: Sequence[Point], margin: float, alpha: float = ALPHA) -> Choice:
    """Rule steps 1-3: the best point, the points equivalent to it, the fastest of those."""
    best = max(points, key=lambda p: (p.quality, -p.ms))  # an exact tie: the faster (both are candidates anyway)
    tested = [(p, accuracy_test(best, p, margin, alpha)) for p in points if p is not best]
    tested = [(p, t) for p, t in tested if t is not None]
    adjusted = holm([t.p_value for _, t in tested]) if tested else []
    tied = (best,) + tuple(p for (p, _), q in zip(tested, adjusted) if q < alpha)
    return Choice(best=best, chosen=min(tied, key=lambda p: (p.ms, p.label)), tied=tied)


def sample_size(a: Point, b: Point) -> str:
    """N behind a test: the common items (paired), else each point's n."""
    common = _common(a, b)
    if common:
        return str(len(common))
    return str(a.n) if a.n == b.n else f"{a.n}/{b.n}"


def verdict(reference: Point, other: Point, margin: float, alpha: float = ALPHA) -> Verdict:
    """Does the reference's chosen point match (or beat) the other's? diff = reference - other."""
    test = accuracy_test(other, reference, margin, alpha)
    n = sample_size(other, reference)
    if test is None:
        return Verdict("not established", f"not established: no image count (n) to test at margin {margin:g}", None)
    low, high = test.ci90
    interval = f"diff {test.diff:+.3f} [{low:+.3f}, {high:+.3f}] ({1 - 2 * alpha:.0%} CI)"
    if test.equivalent:
        return Verdict("equivalent", f"equivalent within ±{margin:g} at N={n}: {interval}", test)
    if low > 0:
        return Verdict("better", f"reference better at N={n}: {interval}", test)
    if low > -margin:
        return Verdict("non-inferior", f"reference not worse by more than {margin:g} at N={n}: {interval}", test)
    if high < 0:
        return Verdict("worse", f"not matched: reference worse at N={n}: {interval}", test)
    return Verdict("not established", f"not established at N={n}, margin {margin:g}: {interval}", test)


def latency_ratio(reference: Point, other: Point, rounds: int = LATENCY_ROUNDS, seed: int = LATENCY_SEED) -> Ratio:
    """other / reference median latency, with the interval the rows allow (see the module docstring)."""
    value = other.ms / reference.ms
    r, o = reference.ms_repeats, other.ms_repeats
    if r and o and len(r) >= 2 and len(o) >= 2 and min(r) > 0 and min(o) > 0:
        def log_ratio(x: np.ndarray, y: np.ndarray) -> float:  # basic interval on the log scale: stays > 0
            return float(np.log(np.median(y) / np.median(x)))

        boot = two_sample_bootstrap(np.asarray(r, dtype=float), np.asarray(o, dtype=float), log_ratio, rounds=rounds, seed=seed)
        return Ratio(value, (math.exp(boot.ci95[0]), math.exp(boot.ci95[1])),
                     f"unpaired bootstrap of the ratio of median latencies ({len(r)} and {len(o)} repeats resampled "
                     f"independently: repeats of two models are not paired; basic interval on the log scale), "
                     f"{rounds} rounds, seed {seed}")
    if reference.ms_ci and other.ms_ci and reference.ms_ci[0] > 0 and other.ms_ci[0] > 0:
        ci = (other.ms_ci[0] / reference.ms_ci[1], other.ms_ci[1] / reference.ms_ci[0])
        return Ratio(value, ci, "the two 95 % latency intervals combined conservatively: [lo_other/hi_ref, hi_other/lo_ref]")
    return Ratio(value, None, "no interval: the rows carry neither latency repeats nor a 95 % interval")


def matching(reference: Sequence[Point], target: Point, margin: float, alpha: float = ALPHA) -> Choice | None:
    """Rule step 4: the reference points not worse than `target` by more than the margin (Bonferroni
    over the reference's points), and the fastest of them; None when no point is shown to match."""
    level = alpha / len(reference)
    ok = []
    for p in reference:
        test = accuracy_test(target, p, margin, level)
        if test is not None and test.ci90[0] > -margin:
            ok.append(p)
    if not ok:
        return None
    best = max(reference, key=lambda p: (p.quality, -p.ms))
    return Choice(best=best, chosen=min(ok, key=lambda p: (p.ms, p.label)), tied=tuple(ok))


def match(reference: Sequence[Point], other: Sequence[Point], margin: float = DEFAULT_MARGIN,
          alpha: float = ALPHA) -> Matched:
    """The baseline's chosen point (steps 1-3), the reference's fastest match to it (step 4), the speed-up."""
    other_choice = choose(other, margin, alpha)
    level = alpha / len(reference)
    ref_choice = matching(reference, other_choice.chosen, margin, alpha)
    if ref_choice is None:  # say why with the reference's own best-quality choice
        ref_choice = choose(reference, margin, alpha)
    found = verdict(ref_choice.chosen, other_choice.chosen, margin, level)
    holds = found.status in HOLDS
    ratio = latency_ratio(ref_choice.chosen, other_choice.chosen) if holds else None
    return Matched(ref_choice, other_choice, found, ratio, margin)


HOLDS = ("equivalent", "better", "non-inferior")


def claim(m: Matched) -> str:
    """One line for a table cell: the speed-up with its interval, or why none is claimed."""
    if m.ratio is None:
        return m.verdict.text
    ci = "" if m.ratio.ci95 is None else f" [{m.ratio.ci95[0]:.2f}, {m.ratio.ci95[1]:.2f}]"
    return f"{m.ratio.value:.2f}x{ci} ({m.verdict.status})"


RULE = ("Rule: the baseline's point is the fastest of its best setting (highest accuracy) and the settings "
        "equivalent to it by TOST within ±{margin} (paired on common images when both rows keep per-image "
        "outcomes, else independent proportions; Holm-adjusted over the family). Muse's point is its fastest "
        "setting not worse than that by more than the margin (non-inferiority, one-sided 5 %, Bonferroni over "
        "Muse's settings); the verdict says whether it is equivalent, better or only non-inferior. The speed-up "
        "is the ratio of median latencies with its interval; when no Muse setting is shown to match, the row "
        "says \"not established\" and claims no speed-up. A difference inside its own interval never breaks a "
        "tie, so fewer images cannot make the speed-up larger.")
