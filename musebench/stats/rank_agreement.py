"""Does a metric order a family of models as the ground truth does? (issue 27, metric meta-evaluation)

- kendall_tau: Kendall's tau-b between the true quality and a metric's scores (scipy.stats.kendalltau,
  which handles ties), both oriented so that higher = better.
- resolved_pairs: the model pairs whose true order is itself established: the paired difference of the
  oracle's per-prompt outcomes (the same prompts and seeds for every model) has a 95 % normal interval
  that excludes 0, Holm-adjusted over all pairs (Holm 1979; multiple.holm). A metric can only be wrong
  about an order that is known.
- pairwise_accuracy: over given pairs, the fraction a metric orders as the truth does; a tie in the
  metric counts one half (it says nothing, so it is right half the time by a coin).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from musebench.stats.multiple import holm


def kendall_tau(truth: np.ndarray, scores: np.ndarray) -> float:
    """Kendall's tau-b of (truth, scores), each (M,) with higher = better; NaN if either is constant."""
    from scipy.stats import kendalltau

    truth, scores = np.asarray(truth, dtype=float), np.asarray(scores, dtype=float)
    if truth.shape != scores.shape or truth.ndim != 1 or len(truth) < 2:
        raise ValueError(f"kendall_tau needs two (M,) arrays with M >= 2, got {truth.shape} and {scores.shape}")
    return float(kendalltau(truth, scores).statistic)


def resolved_pairs(outcomes: np.ndarray, alpha: float = 0.05) -> list[tuple[int, int]]:
    """outcomes (M models, P prompts) of 0/1 (or any paired per-prompt score) -> the pairs (i, j), i < j,
    whose mean difference is significant after Holm over all M(M-1)/2 pairs (two-sided normal test of
    the paired differences)."""
    from scipy.stats import norm

    outcomes = np.asarray(outcomes, dtype=float)
    pairs = list(combinations(range(outcomes.shape[0]), 2))
    p_values = []
    for i, j in pairs:
        d = outcomes[i] - outcomes[j]  # (P,)
        se = d.std(ddof=1) / np.sqrt(len(d))
        p_values.append(1.0 if se == 0 else float(2 * norm.sf(abs(d.mean()) / se)))
    adjusted = holm(p_values)
    return [pair for pair, p in zip(pairs, adjusted) if p < alpha]


def pairwise_accuracy(truth: np.ndarray, scores: np.ndarray, pairs: list[tuple[int, int]]) -> float:
    """Fraction of `pairs` whose order under `scores` matches `truth` (higher = better); a tie scores 0.5."""
    if not pairs:
        return float("nan")
    truth, scores = np.asarray(truth, dtype=float), np.asarray(scores, dtype=float)
    right = 0.0
    for i, j in pairs:
        t, s = np.sign(truth[i] - truth[j]), np.sign(scores[i] - scores[j])
        right += 0.5 if s == 0 else float(s == t)
    return right / len(pairs)
