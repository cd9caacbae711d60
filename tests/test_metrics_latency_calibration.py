"""Latency calibration workloads: the reference transformer is fixed, recorded, and validated early."""

from __future__ import annotations

import torch
import pytest

from musebench.errors import MusebenchError
from musebench.metrics import latency
from musebench.metrics.latency_calibration import TransformerWorkload, calibration_workload, transformer_workload


def test_transformer_workload_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run, flops, label = transformer_workload("cpu", TransformerWorkload(depth=1, text_depth=1, steps=2))
    run()
    assert torch.equal(torch.rand(3), expected)  # building and running it drew nothing from the global RNG
    assert flops is None and "reference transformer v1" in label and "2 steps" in label


def test_matmul_workload_counts_its_flops():
    run, flops, label = calibration_workload("matmul", 32, "cpu")
    run()
    assert flops == 2.0 * 32**3 and label == "matmul 32^2 float32"


def test_unknown_calibration_is_refused_by_the_options():
    with pytest.raises(MusebenchError, match="calibration='gpu'; choose one of: transformer, matmul"):
        latency.Options(calibration="gpu")


def test_rows_record_the_transformer_calibration(tmp_path):
    from test_metrics_latency import MatmulAdapter, _ctx

    rows = {r.metric: r for r in latency.build(latency.Options(warmup=0, repeats=2, batch=1)).compute(_ctx(MatmulAdapter(5), tmp_path))}
    ratio = rows["latency/ratio"]
    assert ratio.extra["calibration"].startswith("reference transformer v1")
    assert "fraction_of_calibration" not in ratio.extra  # no FLOP count for the reference decode
    assert ratio.value > 0


def test_suite_with_a_bad_calibration_fails_at_its_line(tmp_path):
    from musebench.suite import load_suite

    path = tmp_path / "s.yaml"
    path.write_text(open("suites/quickstart.yaml").read().replace("calibration: transformer", "calibration: gpu"))
    with pytest.raises(MusebenchError, match=r"s\.yaml:\d+: .*calibration='gpu'"):
        load_suite(path)
