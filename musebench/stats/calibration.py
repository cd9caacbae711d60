"""How well a confidence predicts correctness: expected calibration error, Brier score, AUROC.

Inputs are one value per item: `confidence` (a probability of being correct, in [0, 1]; AUROC takes
any score where higher means "more likely correct") and `correct` (True/False or 1/0), in the same
order. Not to be confused with metrics/latency_calibration.py, which calibrates latency against a workload.

- ECE (Guo, Pleiss, Sun & Weinberger 2017, "On Calibration of Modern Neural Networks", ICML, eq. 3):
  sum over M equal-width bins B_m = ((m-1)/M, m/M] of |B_m|/n * |acc(B_m) - conf(B_m)|; a confidence
  of exactly 0 joins the first bin. The bin count is part of the number: ECE_BINS = 15, as Guo et al.
- Brier score (Brier 1950): mean (confidence - correct)^2; 0 is perfect, 0.25 is a constant 0.5.
- AUROC: the probability that a correct item scores above an incorrect one, ties counting half;
  the Mann-Whitney U of the correct items over n_correct * n_incorrect (Hanley & McNeil 1982), from
  midranks (scipy.stats.rankdata), the rank-sum formula with no sklearn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from musebench.errors import MusebenchError
from musebench.stats._checks import paired_arrays

ECE_BINS = 15  # Guo et al. 2017 report ECE with M = 15 equal-width bins


def _inputs(where: str, confidence: Sequence, correct: Sequence, unit: bool) -> tuple[np.ndarray, np.ndarray]:
    """(confidence (n,) float64, correct (n,) bool), refused with a one-line error when they cannot be."""
    score, outcome = paired_arrays(where, confidence, correct, names=("confidence", "correct"))
    bad = np.flatnonzero((outcome != 0) & (outcome != 1))
    if bad.size:
        raise MusebenchError(f"{where}: correct[{bad[0]}] = {outcome[bad[0]]} is not a correct/incorrect outcome; "
                             "pass True/False (or 1/0) per item")
    outside = np.flatnonzero((score < 0) | (score > 1)) if unit else np.empty(0, dtype=int)
    if outside.size:
        raise MusebenchError(f"{where}: confidence[{outside[0]}] = {score[outside[0]]} is not a probability in [0, 1]; "
                             "map the score to one first (e.g. exp of a mean log-probability)")
    return score, outcome.astype(bool)


def bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """(n,) -> (n,) int in [0, bins): 0-based bin m holds (m/M, (m+1)/M]; a confidence of 0 joins bin 0."""
    edges = np.linspace(0.0, 1.0, bins + 1)  # (M + 1,)
    return np.clip(np.digitize(confidence, edges, right=True) - 1, 0, bins - 1)


def expected_calibration_error(confidence: Sequence, correct: Sequence, bins: int = ECE_BINS) -> float:
    """Guo et al. 2017 ECE with `bins` equal-width bins over [0, 1] (empty bins weigh nothing)."""
    if not isinstance(bins, int) or bins < 1:
        raise MusebenchError(f"expected_calibration_error: bins={bins!r} must be an integer >= 1, e.g. {ECE_BINS}")
    score, outcome = _inputs("expected_calibration_error", confidence, correct, unit=True)
    index = bin_index(score, bins)  # (n,)
    hits = np.bincount(index, weights=outcome, minlength=bins)  # (M,) correct items per bin
    mass = np.bincount(index, weights=score, minlength=bins)  # (M,) summed confidence per bin
    gap = np.abs(hits - mass)  # (M,)
    return float(gap.sum() / score.size)  # sum_m |B_m|/n |acc - conf| = sum_m |sum correct - sum conf| / n


def brier_score(confidence: Sequence, correct: Sequence) -> float:
    score, outcome = _inputs("brier_score", confidence, correct, unit=True)
    return float(np.mean((score - outcome) ** 2))


def auroc(score: Sequence, correct: Sequence) -> float:
    """P(score of a correct item > score of an incorrect one) + P(tie) / 2, by the rank-sum formula."""
    values, outcome = _inputs("auroc", score, correct, unit=False)
    n_correct, n_wrong = int(outcome.sum()), int((~outcome).sum())
    if not n_correct or not n_wrong:
        raise MusebenchError(f"auroc: all {values.size} items are {'correct' if n_correct else 'incorrect'}; "
                             "AUROC needs both correct and incorrect items")
    ranks = rankdata(values)  # (n,) midranks: ties share their average rank
    u = ranks[outcome].sum() - n_correct * (n_correct + 1) / 2  # Mann-Whitney U of the correct items
    return float(u / (n_correct * n_wrong))


def platt_fit(score: Sequence, correct: Sequence) -> tuple[float, float]:
    """(a, b) of P(correct) = sigmoid(a * score + b): Platt scaling (Platt 1999, "Probabilistic Outputs
    for Support Vector Machines"), the standard post-hoc map from a confidence score to a probability,
    fitted on one set and applied to another. Platt's smoothed targets ((n+ + 1)/(n+ + 2) for a correct
    item, 1/(n- + 2) for a wrong one) keep the fit finite when the score separates the two verdicts;
    minimised by Newton's method with backtracking, as Lin, Lin & Weng (2007, "A note on Platt's
    probabilistic outputs for support vector machines", Machine Learning 68:267) recommend."""
    from scipy.special import expit, log_expit

    x, outcome = _inputs("platt_fit", score, correct, unit=False)
    positives, negatives = int(outcome.sum()), int((~outcome).sum())
    target = np.where(outcome, (positives + 1) / (positives + 2), 1 / (negatives + 2))  # (n,)

    def loss(a: float, b: float) -> float:  # cross-entropy of the smoothed targets
        z = a * x + b
        return -float(target @ log_expit(z) + (1 - target) @ log_expit(-z))

    a, b = 0.0, float(np.log((positives + 1) / (negatives + 1)))
    current = loss(a, b)
    for _ in range(100):
        p = expit(a * x + b)  # (n,)
        residual, weight = p - target, np.maximum(p * (1 - p), 1e-12)  # gradient terms, Hessian weights
        gradient = np.array([residual @ x, residual.sum()])
        hessian = np.array([[weight @ (x * x), weight @ x], [weight @ x, weight.sum()]]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-10:  # backtracking: the first fraction of the Newton step that lowers the loss
            trial = loss(a - scale * step[0], b - scale * step[1])
            if trial < current + 1e-4 * scale * float(gradient @ -step):
                break
            scale /= 2
        a, b, previous, current = a - scale * step[0], b - scale * step[1], current, trial
        if abs(previous - current) <= 1e-12 * max(1.0, abs(current)) or np.abs(gradient).max() < 1e-9:
            break
    return float(a), float(b)


def platt_apply(score: Sequence, a: float, b: float) -> np.ndarray:
    """sigmoid(a * score + b): the fitted probability of being correct, (n,) float64."""
    from scipy.special import expit

    return expit(a * np.asarray(score, dtype=np.float64) + b)
