"""The confidence metric (metrics/confidence.py), the perturbed captions (shapes/perturb.py), Platt
scaling (stats/calibration.py) and the report's calibration section (report/calibration.py)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics.base import EvalContext
from musebench.metrics.confidence import ConfidenceMetric, Options
from musebench.models.confidence import IMAGE_CONFIDENCE, NOT_AVAILABLE
from musebench.prompts.registry import load_prompts
from musebench.results import item_key
from musebench.shapes import render, sample_prompts, scene_from_dict
from musebench.shapes.captions import TEMPLATES
from musebench.shapes.perturb import PERTURBATIONS, SYNONYMS, perturb_records
from musebench.shapes.vocab import COLOURS, COUNT_WORDS, PLURALS, POSITIONS, RELATIONS, SHAPES, SIZES
from musebench.stats.calibration import expected_calibration_error, platt_apply, platt_fit
from musebench.suite import load_suite

REPO = Path(__file__).resolve().parents[1]


class RendersWithConfidence:
    """An adapter whose images are the real renders and whose confidence is a fixed function of the
    prompt: the metric's bookkeeping is then checkable exactly."""

    name, version = "renders", "1"

    def __init__(self, records, confidence, tamper=False):
        self.records = {r.prompt: r for r in records}
        self.confidence = confidence  # prompt -> log p
        self.tamper = tamper

    def fingerprint(self) -> str:
        return "renders-1"

    def generate_with_confidence(self, prompts, seeds, params):
        images = torch.stack([torch.from_numpy(render(scene_from_dict(self.records[p].scene), 32)).permute(2, 0, 1)
                              for p in prompts])
        if self.tamper:
            images[:, :, 0, 0] ^= 1
        return images, {IMAGE_CONFIDENCE: np.array([self.confidence[p] for p in prompts])}


def _context(records, adapter, images, tmp_path, seed=0):
    return EvalContext(images=images, prompts=tuple(records), feature_cache_dir=tmp_path / "features", adapter=adapter,
                       params={}, seed=seed, item_keys=tuple(item_key(r.index, 7) for r in records))


def _renders(records) -> torch.Tensor:
    return torch.stack([torch.from_numpy(render(scene_from_dict(r.scene), 32)).permute(2, 0, 1) for r in records])


def test_rows_match_the_statistics_on_the_same_numbers(tmp_path):
    records = sample_prompts("val", 24, 0)
    log_p = {r.prompt: -0.05 * (i % 7) for i, r in enumerate(records)}
    adapter = RendersWithConfidence(records, log_p)
    metric = ConfidenceMetric(Options(rounds=50, reject=(0.25,)))
    rows = {v.metric: v for v in metric.compute(_context(records, adapter, _renders(records), tmp_path))}
    p = np.exp([log_p[r.prompt] for r in records])
    correct = np.ones(len(records), dtype=bool)  # renders: the oracle says right, every one
    assert rows["confidence/ece"].value == pytest.approx(expected_calibration_error(p, correct))
    assert rows["confidence/ece"].value == pytest.approx(np.mean(1 - p))  # all correct: ECE = mean gap
    assert rows["confidence/brier"].value == pytest.approx(np.mean((p - 1) ** 2))
    assert np.isnan(rows["confidence/auroc"].value) and "undefined" in rows["confidence/auroc"].extra["status"]
    assert dict(rows["confidence/mean"].items) == pytest.approx({item_key(r.index, 7): v for r, v in zip(records, p)})
    lo, hi = rows["confidence/ece"].ci95
    assert 0 <= lo <= rows["confidence/ece"].value <= hi
    kept = rows["confidence/selective/reject_25"]
    assert kept.n == 18 and kept.value == 1.0
    assert rows["confidence/boundary/final"].extra["kind"] == "confidence detail"
    # per category: all six GenEval tags of val
    assert {m.split("/")[1] for m in rows if m.endswith("/brier") and m.count("/") == 2} == set(TEMPLATES)
    # measured once: the second call reads the derived store (the adapter is not called again)
    def measured_again(prompts, seeds, params):
        raise AssertionError("the confidence was measured again instead of read from the derived store")

    adapter.generate_with_confidence = measured_again
    again = {v.metric: v.value for v in metric.compute(_context(records, adapter, _renders(records), tmp_path))}
    assert again["confidence/ece"] == rows["confidence/ece"].value


def test_confidence_of_other_images_is_refused(tmp_path):
    records = sample_prompts("val", 6, 0)
    adapter = RendersWithConfidence(records, {r.prompt: -0.1 for r in records}, tamper=True)
    with pytest.raises(MusebenchError, match=r"6 of 6 images regenerated with confidence differ"):
        ConfidenceMetric(Options(rounds=0)).compute(_context(records, adapter, _renders(records), tmp_path))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two possible torch thread counts")
def test_images_cached_under_another_thread_count_are_matched_not_refused(tmp_path):
    """The image cache does not key on the torch thread count (docs/suites.md, "Seeds"): an image that
    differs at this run's count is regenerated at the others, and its confidence is the matching one."""
    records = sample_prompts("val", 6, 0)
    now = torch.get_num_threads()
    odd = {r.prompt for r in records[::2]}  # these come out different at the current thread count

    class ThreadSensitive(RendersWithConfidence):
        def generate_with_confidence(self, prompts, seeds, params):
            images, found = super().generate_with_confidence(prompts, seeds, params)
            wrong = torch.get_num_threads() == now
            for i, prompt in enumerate(prompts):
                if wrong and prompt in odd:
                    images[i, :, 0, 0] ^= 1
                    found[IMAGE_CONFIDENCE][i] = -9.0
            return images, found

    adapter = ThreadSensitive(records, {r.prompt: -0.1 * (1 + r.index % 3) for r in records})
    measured = ConfidenceMetric(Options(rounds=0)).compute(_context(records, adapter, _renders(records), tmp_path))
    rows = {v.metric: v for v in measured}
    assert [v for _, v in rows["confidence/mean"].items] == pytest.approx([np.exp(-0.1 * (1 + r.index % 3)) for r in records])
    assert torch.get_num_threads() == now  # restored


def test_an_adapter_without_confidence_is_not_available_not_an_error(tmp_path):
    from musebench.models.registry import load_adapter

    records = sample_prompts("val", 6, 0)
    rows = ConfidenceMetric(Options(rounds=0)).compute(_context(records, load_adapter("real", None, "cpu"), _renders(records), tmp_path))
    status = {v.metric: v.extra.get("status") for v in rows}
    assert status == {"confidence/ece": NOT_AVAILABLE, "confidence/brier": NOT_AVAILABLE,
                      "confidence/auroc": NOT_AVAILABLE, "confidence/boundary/final": None}


@pytest.mark.parametrize("options, message", [
    (Options(bins=0), "bins must be an integer >= 1"),
    (Options(rounds=1), "rounds must be 0"),
    (Options(reject=(0.0,)), r"reject fractions must be in \(0, 1\)"),
    (Options(boundary_patch=0), "boundary_patch must be an integer >= 1"),
])
def test_bad_options_are_one_line(options, message):
    with pytest.raises(MusebenchError, match=message):
        ConfidenceMetric(options)


# ---- perturbed captions --------------------------------------------------------------------------

def _training_words() -> set[str]:
    words = set()
    for templates in TEMPLATES.values():
        for t in templates:
            words |= set(re.sub(r"\{\w+\}", " ", t).replace(",", " ").split())
    for vocab in (SHAPES, tuple(PLURALS.values()), tuple(COLOURS), tuple(SIZES), POSITIONS, tuple(COUNT_WORDS.values()),
                  RELATIONS, ("to the left of", "to the right of")):
        for phrase in vocab:
            words |= set(phrase.split())
    return words


def test_every_synonym_has_a_word_no_training_caption_uses():
    seen = _training_words()
    for word, synonym in SYNONYMS.items():
        assert set(synonym.split()) - seen, (word, synonym)


@pytest.mark.parametrize("kind", PERTURBATIONS)
def test_perturbation_keeps_the_scene_and_changes_the_words(kind):
    records = sample_prompts("val", 60, 3)
    perturbed = perturb_records(records, kind)
    assert [r.scene for r in perturbed] == [r.scene for r in records]
    assert [(r.index, r.tag) for r in perturbed] == [(r.index, r.tag) for r in records]
    assert sum(a.prompt != b.prompt for a, b in zip(perturbed, records)) >= 50
    assert all(r.source == f"shapes:val~{kind}" and r.meta["perturbation"] == kind for r in perturbed)
    assert perturb_records(records, kind) == perturbed  # a pure function of the records


def test_reordered_position_states_the_converse_relation():
    records = [r for r in sample_prompts("val", 60, 0) if r.tag == "position"]
    for rec in perturb_records(records, "reordered"):
        a, b = rec.scene["objects"]
        relation = {"left of": "to the right of", "right of": "to the left of", "above": "below", "below": "above"}[rec.scene["relation"]]
        assert rec.prompt.startswith(f"a{'n' if b['colour'][0] in 'aeiou' else ''} {b['colour']} {b['shape']} {relation}")


def test_mixed_gives_each_category_every_kind():
    perturbed = perturb_records(sample_prompts("val", 36, 0), "mixed")
    pairs = {(r.tag, r.meta["perturbation"]) for r in perturbed}
    assert pairs == {(tag, kind) for tag in TEMPLATES for kind in PERTURBATIONS}


def test_suite_key_perturb_loads_and_is_refused_where_it_cannot_apply(tmp_path):
    suite = load_suite(REPO / "suites" / "calibration_perturbed.yaml", limit=18)
    assert {r.meta["perturbation"] for r in load_prompts(suite.prompts, suite.seed)} == set(PERTURBATIONS)
    bad = tmp_path / "bad.yaml"
    bad.write_text("include: " + str(REPO / "suites" / "calibration.yaml") + "\nprompts: {perturb: typo}\n")
    with pytest.raises(MusebenchError, match=r"bad.yaml:\d+: prompts.perturb: expected"):
        load_suite(bad)


# ---- Platt scaling ---------------------------------------------------------------------------------

def test_platt_fit_recovers_a_known_logistic_map():
    rng = np.random.default_rng(0)
    score = rng.normal(size=20_000)
    correct = rng.random(score.size) < platt_apply(score, 1.5, -0.3)
    a, b = platt_fit(score, correct)
    assert a == pytest.approx(1.5, abs=0.06) and b == pytest.approx(-0.3, abs=0.05)


# ---- end to end: run, then the report's section ------------------------------------------------------

def _run(tmp_path: Path, name: str, limit: int, trajectory: bool) -> Path:
    from musebench.runner.run import RunOptions, run_suite

    out = tmp_path / name
    run_suite(RunOptions(str(REPO / "suites" / f"{name}.yaml"), out=str(out), cache=str(tmp_path / "cache"), limit=limit,
                         overrides=("metrics.confidence.rounds=20", f"metrics.confidence.trajectory={str(trajectory).lower()}")))
    return out


def _rows(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    return {(r["model"], r["metric"]): r for r in rows}


def test_calibration_suites_run_and_report_the_gap(tmp_path):
    from musebench.report.build import build_report

    runs = [_run(tmp_path, name, 6, trajectory=False) for name in ("calibration", "calibration_perturbed")]
    by = _rows(runs[0])
    assert by[("real", "confidence/ece")]["extra"]["status"] == NOT_AVAILABLE
    assert 0 <= by[("muse", "confidence/ece")]["value"] <= 1
    index = build_report(runs, tmp_path / "report")
    text = (index.parent / "index.md").read_text()
    assert "## Confidence calibration" in text and "### Out-of-distribution gap" in text
    assert "not available (the adapter reports none): real" in text
    assert "muse on val, perturbed (mixed): the calibration gap is" in text


@pytest.mark.slow
def test_trajectory_rows_end_at_the_final_image(tmp_path):
    by = _rows(_run(tmp_path, "calibration", 12, trajectory=True))
    steps = [m for (model, m) in by if model == "muse" and m.startswith("confidence/trajectory/")]
    assert len(steps) == 12  # the shipped Muse decodes in 12 steps
    assert by[("muse", "confidence/trajectory/step_12")]["value"] == by[("muse", "oracle/all_correct")]["value"]


def test_the_report_splits_a_mixed_run_by_perturbation_kind():
    """Item i of a `perturb: mixed` run is PERTURBATIONS[(i // 6) % 3], the rule the prompts were rewritten by."""
    from musebench.report.calibration import Condition, perturbation_frame
    from musebench.shapes.perturb import mixed_kind

    records = perturb_records(sample_prompts("val", 36, 0), "mixed")
    assert [mixed_kind(r.index) for r in records] == [r.meta["perturbation"] for r in records]
    rng = np.random.default_rng(0)
    ref = Condition("val", "muse", "val", True, rng.normal(-1, 0.3, 200), rng.random(200) < 0.8)
    mixed = Condition("p", "muse", "val, perturbed (mixed)", False, rng.normal(-1, 0.3, 36), rng.random(36) < 0.5,
                      tuple(mixed_kind(r.index) for r in records))
    frame = perturbation_frame([ref, mixed])
    assert list(frame["perturbation"]) == list(PERTURBATIONS) and list(frame["N"]) == [12, 12, 12]
