"""Latency: rows, ratio to the calibration, FLOP/s from describe(), bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from musebench.errors import MusebenchError
from musebench.metrics import latency
from musebench.metrics.base import EvalContext
from musebench.prompts.base import PromptRecord


class MatmulAdapter:
    """A model whose work is `k` chained (64 x 64) matmuls per image: time scales with k."""

    name, version = "matmul", "1"

    def __init__(self, k: int) -> None:
        self.k = k
        self.w = torch.randn(64, 64, generator=torch.Generator().manual_seed(0)) / 8

    def defaults(self):
        return {}

    def resolution(self) -> int:
        return 8

    def fingerprint(self) -> str:
        return f"matmul{self.k}"

    def generate(self, prompts, seeds, params):
        out = []
        for seed in seeds:
            x = torch.randn(64, 64, generator=torch.Generator().manual_seed(seed))
            for _ in range(self.k):
                x = torch.tanh(x @ self.w)
            out.append((x[:3 * 8, :8].reshape(3, 8, 8).abs() * 255).clamp(0, 255).to(torch.uint8))
        return torch.stack(out)  # (N, 3, 8, 8)

    def describe(self, params):
        return {"parameters": 64 * 64, "resolution": 8, "flops_per_image": 2.0 * 64**3 * self.k}


def _ctx(adapter, tmp_path: Path) -> EvalContext:
    recs = tuple(PromptRecord(prompt=f"p{i}", source="test", index=i) for i in range(4))
    return EvalContext(images=torch.zeros(4, 3, 8, 8, dtype=torch.uint8), prompts=recs, feature_cache_dir=tmp_path, adapter=adapter)


def test_rows_and_ratio_track_the_work(tmp_path):
    options = latency.Options(warmup=1, repeats=5, batch=2, calibration_size=64)
    small = {r.metric: r for r in latency.build(options).compute(_ctx(MatmulAdapter(20), tmp_path))}
    big = {r.metric: r for r in latency.build(options).compute(_ctx(MatmulAdapter(400), tmp_path))}
    assert set(small) == {"latency/ms_per_image_b1", "latency/images_per_s", "latency/ratio", "latency/ms_per_image_b2"}
    assert set(small) == set(latency.outputs(options))
    for rows in (small, big):
        for row in rows.values():
            assert row.n == 5 and row.ci95[0] <= row.value <= row.ci95[1]
        assert rows["latency/ms_per_image_b1"].extra["p95_ms"] >= rows["latency/ms_per_image_b1"].value
        assert rows["latency/ratio"].higher_is_better is False and rows["latency/images_per_s"].higher_is_better
        assert rows["latency/ratio"].extra["achieved_flops_per_s"] > 0
    assert big["latency/ratio"].value > 3 * small["latency/ratio"].value  # 20x the matmuls
    for rows in (small, big):  # batch 2: per-image time is 1000 / throughput, repeat by repeat
        per_image = rows["latency/ms_per_image_b2"]
        assert per_image.value == pytest.approx(1000.0 / rows["latency/images_per_s"].value)  # odd repeats: exact
        assert len(per_image.items) == 5 and per_image.extra["batch"] == 2
    assert big["latency/ms_per_image_b2"].value > 3 * small["latency/ms_per_image_b2"].value


def test_latency_without_adapter_or_with_bad_options(tmp_path):
    ctx = _ctx(None, tmp_path)
    with pytest.raises(MusebenchError, match="latency: needs a model adapter"):
        latency.build(latency.Options()).compute(ctx)
    with pytest.raises(MusebenchError, match=r"repeats=1 must be an integer in \[2, 10000\]"):
        latency.Options(repeats=1)  # refused where the suite is read, before any image
    with pytest.raises(MusebenchError, match=r"calibration_size=1000000000 must be an integer in \[16, 16384\]"):
        latency.Options(calibration_size=10**9)


class CountingAdapter(MatmulAdapter):
    def __init__(self, k: int) -> None:
        super().__init__(k)
        self.calls: list[int] = []

    def generate(self, prompts, seeds, params):
        self.calls.append(len(prompts))
        return super().generate(prompts, seeds, params)


def test_batch_one_throughput_reuses_the_batch_one_calls(tmp_path):
    adapter = CountingAdapter(5)
    rows = {r.metric: r for r in latency.build(latency.Options(warmup=1, repeats=5, batch=1, calibration_size=32))
            .compute(_ctx(adapter, tmp_path))}
    assert adapter.calls == [1] * 6  # 1 warm-up + 5 timed; no second, identical loop
    # odd repeats: the median of 1/t is 1/median(t)
    assert rows["latency/images_per_s"].value == pytest.approx(1000.0 / rows["latency/ms_per_image_b1"].value)
    assert "latency/ms_per_image_b1" in rows and not any(m.startswith("latency/ms_per_image_b") and m != "latency/ms_per_image_b1" for m in rows)
    adapter = CountingAdapter(5)
    latency.build(latency.Options(warmup=1, repeats=4, batch=3, calibration_size=32)).compute(_ctx(adapter, tmp_path))
    assert adapter.calls == [1, 3] + [1] * 4 + [3] * 4


def test_ratio_to_a_named_reference_model_tracks_the_work(tmp_path):
    options = latency.Options(warmup=1, repeats=5, batch=1, calibration_size=32, reference_model="slow-ref")
    metric = latency.build(options)
    metric._reference = (MatmulAdapter(400), {})  # what reference() loads from a checkpoint, here in memory
    rows = {r.metric: r for r in metric.compute(_ctx(MatmulAdapter(20), tmp_path))}
    row = rows["latency/ratio_to_reference"]
    assert row.value < 0.34 and row.higher_is_better is False and row.n == 5  # 20 vs 400 matmuls
    assert row.extra["reference_model"] == "slow-ref" and row.extra["reference_fingerprint"] == "matmul400"
    assert row.ci95[0] <= row.value <= row.ci95[1]
    plain = latency.build(latency.Options(warmup=0, repeats=2, batch=1, calibration_size=32))
    assert "latency/ratio_to_reference" not in {r.metric for r in plain.compute(_ctx(MatmulAdapter(1), tmp_path))}


def test_unknown_reference_model_or_parameter_is_a_clear_error(tmp_path):
    metric = latency.build(latency.Options(repeats=2, reference_model="no-such-model"))
    with pytest.raises(MusebenchError, match="checkpoint 'no-such-model' not found: give a directory with config.json or a shipped name"):
        metric.compute(_ctx(MatmulAdapter(1), tmp_path))
    metric = latency.build(latency.Options(repeats=2, reference_model="muse-shapes", reference_params={"stepz": 4}))
    with pytest.raises(MusebenchError, match=r"latency.reference_model muse-shapes: does not take parameter 'stepz' \(did you mean 'steps'\?\)"):
        metric.compute(_ctx(MatmulAdapter(1), tmp_path))


def test_busy_cpu_is_recorded_and_warned_about_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(latency.os, "getloadavg", lambda: (9.5, 9.0, 8.0))
    monkeypatch.setattr(latency.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(latency, "_WARNED", [])
    options = latency.Options(warmup=0, repeats=2, batch=1, calibration_size=16)
    rows = latency.build(options).compute(_ctx(MatmulAdapter(1), tmp_path))
    assert all(r.extra["load_average_1min"] == 9.5 for r in rows)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "latency timed with load average 9.5 on 2 cores" in err
    latency.build(options).compute(_ctx(MatmulAdapter(1), tmp_path))
    assert capsys.readouterr().err == ""  # once per process
    monkeypatch.setattr(latency.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    monkeypatch.setattr(latency, "_WARNED", [])
    latency.build(options).compute(_ctx(MatmulAdapter(1), tmp_path))
    assert capsys.readouterr().err == ""  # an idle machine: no warning


class DescribeCountingAdapter(MatmulAdapter):
    """MatmulAdapter that counts describe() calls (FLOP counting is the slow part of a warm run)."""

    def __init__(self, k: int) -> None:
        super().__init__(k)
        self.described = 0

    def describe(self, params):
        self.described += 1
        return {**super().describe(params), "parameters_by_component": {"w": 64 * 64}, "params": dict(params)}


def test_describe_is_cached_by_model_and_params(tmp_path):
    from musebench.metrics.describe_cache import cached_describe

    first, again, other = DescribeCountingAdapter(20), DescribeCountingAdapter(20), DescribeCountingAdapter(40)
    cold = cached_describe(first, {"steps": 4}, tmp_path)
    assert first.described == 1 and cached_describe(again, {"steps": 4}, tmp_path) == cold
    assert again.described == 0  # a second process with the same model reads the file
    cached_describe(again, {"steps": 8}, tmp_path)
    cached_describe(other, {"steps": 4}, tmp_path)
    assert again.described == 1 and other.described == 1  # new params / new fingerprint: counted
    assert cached_describe(other, {"steps": 4}, tmp_path)["flops_per_image"] == 2.0 * 64**3 * 40
    entries = sorted((tmp_path / "describe").glob("*.json"))
    assert len(entries) == 3
    entries[0].write_text("{half a fi")  # a torn entry is measured again and replaced
    for adapter, params in ((DescribeCountingAdapter(20), {"steps": 4}), (DescribeCountingAdapter(20), {"steps": 8}), (DescribeCountingAdapter(40), {"steps": 4})):
        assert cached_describe(adapter, params, tmp_path) == adapter.describe(params)
    assert cached_describe(DescribeCountingAdapter(20), {"steps": 4}, None) is not None  # no cache: plain describe()


def test_latency_rows_are_the_same_with_a_cached_description(tmp_path):
    options = latency.Options(warmup=1, repeats=3, batch=2, calibration_size=64)
    adapter = DescribeCountingAdapter(20)
    cold = {r.metric: r for r in latency.build(options).compute(_ctx(adapter, tmp_path))}
    warm = {r.metric: r for r in latency.build(options).compute(_ctx(adapter, tmp_path))}
    assert adapter.described == 1
    assert warm["latency/ratio"].extra["achieved_flops_per_s"] > 0
    assert cold["latency/ratio"].extra.keys() == warm["latency/ratio"].extra.keys()


def test_reference_model_held_by_the_run_is_not_loaded_again(tmp_path, monkeypatch):
    """Issue 24 "latency reuses the loaded model": a reference_model whose checkpoint a suite model
    already loaded (EvalContext.loaded, by resolved directory) is that adapter, not a second copy."""
    from musebench.models import registry
    from musebench.models.registry import model_adapter

    held = MatmulAdapter(3)
    held.device = "cpu"
    held.declared = lambda: registry.declared_params("ldm", "ldm-shapes")
    directory = str(model_adapter("ldm-shapes")[1].resolve())
    monkeypatch.setattr(registry, "load_model", lambda *a: pytest.fail("loaded a second copy"))
    metric = latency.build(latency.Options(repeats=2, reference_model="ldm-shapes", reference_params={"steps": 4}))
    adapter, params = metric.reference("cpu", {directory: held})
    assert adapter is held and params["steps"] == 4
