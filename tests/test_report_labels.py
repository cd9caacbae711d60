"""Figure labels (report/labels.py, issue 22 item 4): human names with units and direction, the CLIP
score's convention named (and a mix of conventions said aloud), and step ticks that do not collide."""

from __future__ import annotations

import pandas as pd

from musebench.report import labels, style
from musebench.report.curves import steps_axis


def test_axis_names_say_what_and_in_which_unit() -> None:
    assert labels.axis("latency/ms_per_image_b1", None, False) == "latency at batch 1 (ms per image) ↓"
    assert labels.axis("latency/ms_per_image_b64", None, False) == "latency at batch 64 (ms per image) ↓"
    assert labels.axis("kid/probe", None, False) == "KID, probe features ↓"
    assert labels.axis("oracle/all_correct", None, True) == "oracle accuracy (fraction of images) ↑"
    assert labels.axis("oracle/counting", None, True) == "oracle accuracy, counting prompts (fraction of images) ↑"
    assert labels.axis("oracle/attribute/colour") == "colour correct (fraction of images)"
    assert labels.name("fid/probe") == "FID, probe features"
    assert labels.name("kid/inception") == "KID, Inception-v3 features"
    for metric in ("fid/probe", "clip_score/probe", "oracle/all_correct", "latency/ms_per_image_b1"):
        assert "/" not in labels.axis(metric) and "_" not in labels.axis(metric)


def test_clip_score_names_its_convention() -> None:
    assert labels.name("clip_score/probe", "torchmetrics") == "CLIP score, probe model (100·cos)"
    assert labels.name("clip_score/probe", "cosine") == "CLIP score, probe model (cos)"
    assert labels.name("clip_score/probe", "hessel") == "CLIP score, probe model (2.5·max(cos, 0))"
    rows = pd.DataFrame({"metric": ["clip_score/probe"] * 3 + ["fid/probe"],
                         "variant": ["torchmetrics", "cosine", None, None]})
    assert labels.variant_of(rows, "clip_score/probe") == "mixed"
    assert "conventions differ" in labels.name("clip_score/probe", "mixed")
    assert labels.variant_of(rows.iloc[[0, 2, 3]], "clip_score/probe") == "torchmetrics"
    assert labels.variant_of(rows, "fid/probe") is None


def test_step_ticks_keep_their_marks_but_not_colliding_text() -> None:
    with style.figure() as (_, axes):
        ax = axes[0][0]
        ax.plot([1, 64], [0, 1])
        steps_axis(ax, pd.Series([1, 2, 4, 8, 9, 64]))
        assert ax.get_xscale() == "log"
        assert list(ax.get_xticks()) == [1, 2, 4, 8, 9, 64]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4", "8", "", "64"]  # 9 sits on 8
        assert ax.get_xlabel() == "sampling steps"
