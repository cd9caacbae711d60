"""ECE, Brier score and AUROC (musebench/stats/calibration.py) on hand-computed cases (issue 25)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from musebench.errors import MusebenchError
from musebench.stats.calibration import ECE_BINS, auroc, bin_index, brier_score, expected_calibration_error

# Six items; with 5 bins of width 0.2 they fall in (0, .2], (.2, .4] and (.8, 1]:
CONFIDENCE = [0.1, 0.3, 0.35, 0.9, 0.95, 0.85]
CORRECT = [0, 1, 0, 1, 1, 0]


def test_ece_on_a_hand_computed_case():
    # (0, .2]:  {0.1: wrong}            acc 0,   conf 0.1,   |gap| 0.1,   weight 1/6
    # (.2, .4]: {0.3: right, 0.35: wrong} acc 1/2, conf 0.325, |gap| 0.175, weight 2/6
    # (.8, 1]:  {0.9, 0.95: right, 0.85: wrong} acc 2/3, conf 0.9, |gap| 7/30, weight 3/6
    # ECE = (0.1 + 2 * 0.175 + 3 * 7/30) / 6 = 1.15 / 6
    assert expected_calibration_error(CONFIDENCE, CORRECT, bins=5) == pytest.approx(1.15 / 6, abs=1e-15)


def test_ece_bins_are_right_closed_and_zero_joins_the_first():
    assert ECE_BINS == 15
    assert bin_index(np.array([0.0, 0.2, 0.2000001, 0.3, 0.4, 1.0]), 5).tolist() == [0, 0, 1, 1, 1, 4]
    # 0.4 sits on an edge: it is in (.2, .4] with 0.3 (gap |1 - 0.7| / 2 items), not with 0.5
    assert expected_calibration_error([0.3, 0.4], [1, 0], bins=5) == pytest.approx(abs(1 - 0.7) / 2)


def test_a_perfectly_calibrated_set_has_zero_ece_and_one_bin_is_the_overall_gap():
    assert expected_calibration_error([0.5, 0.5, 1.0, 1.0, 0.0], [1, 0, 1, 1, 0]) == 0.0
    # one bin: |accuracy - mean confidence| = |3/6 - 3.45/6|
    assert expected_calibration_error(CONFIDENCE, CORRECT, bins=1) == pytest.approx(0.45 / 6)


def test_brier_on_a_hand_computed_case():
    # (.1-0)^2 + (.3-1)^2 + (.35-0)^2 + (.9-1)^2 + (.95-1)^2 + (.85-0)^2
    # = .01 + .49 + .1225 + .01 + .0025 + .7225 = 1.3575
    assert brier_score(CONFIDENCE, CORRECT) == pytest.approx(1.3575 / 6)


def test_auroc_on_a_hand_computed_case():
    # correct {0.3, 0.9, 0.95} vs incorrect {0.1, 0.35, 0.85}: 0.3 beats 1, 0.9 and 0.95 beat 3 each -> 7/9
    assert auroc(CONFIDENCE, CORRECT) == pytest.approx(7 / 9)
    # a tie counts half: correct {2, 1} vs incorrect {1, 0}: 1 + 1 + 1/2 + 1 = 3.5 of 4
    assert auroc([2.0, 1.0, 1.0, 0.0], [1, 1, 0, 0]) == pytest.approx(3.5 / 4)
    assert auroc([-5.0, -1.0], [0, 1]) == 1.0  # any real score, e.g. a mean log-probability


def test_auroc_is_mann_whitney_u_over_the_pairs():
    rng = np.random.default_rng(0)
    correct = rng.random(200) < 0.6
    score = np.round(rng.normal(correct * 0.7, 1.0), 1)  # rounded: many ties
    u = mannwhitneyu(score[correct], score[~correct]).statistic
    assert auroc(score, correct) == pytest.approx(u / (correct.sum() * (~correct).sum()), rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: expected_calibration_error([0.5, 1.2], [1, 0]), r"confidence\[1\] = 1.2 is not a probability in \[0, 1\]"),
    (lambda: brier_score([0.5], [2]), r"brier_score: correct\[0\] = 2.0 is not a correct/incorrect outcome"),
    (lambda: brier_score([0.5, 0.4], [1]), "confidence has 2 items and correct has 1"),
    (lambda: auroc([0.5, float("nan")], [1, 0]), r"confidence\[1\] = nan is not finite; drop that item from both"),
    (lambda: auroc([0.5, 0.4], [1, 1]), "all 2 items are correct; AUROC needs both"),
    (lambda: expected_calibration_error([0.5], [1], bins=0), "bins=0 must be an integer >= 1"),
])
def test_bad_input_is_one_line_naming_the_item(call, message):
    with pytest.raises(MusebenchError, match=message):
        call()
