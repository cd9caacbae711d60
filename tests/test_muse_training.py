"""Training loops of the reference Muse on tiny real components: resume equals uninterrupted, logs."""

from __future__ import annotations

import math

import pytest
import torch

from reference_model.config import TransformerConfig, VQConfig
from reference_model.lr_schedule import warmup_cosine
from reference_model.tokenizer import VQModel
from reference_model.training import TokenData, TrainConfig, draw_batch, train_transformer
from reference_model.transformer import MaskedTransformer
from reference_model.vq_training import VQTrainConfig, background_mask, reconstruction_stats, train_vq

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """A shared 2-core machine runs these tiny ops far faster on one thread (no OpenMP spinning)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)



def tiny_data(n: int = 32) -> TokenData:
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(5, 6, 8, generator=g).half()
    mask = torch.ones(5, 6, dtype=torch.bool)
    mask[:, 4:] = False
    return TokenData(tokens=torch.randint(0, 16, (n, 16), generator=g).to(torch.int16),
                     caption_index=torch.randint(0, 4, (n,), generator=g), text_hidden=hidden,
                     text_mask=mask, empty_index=4)


def tiny_transformer() -> MaskedTransformer:
    torch.manual_seed(0)
    return MaskedTransformer(TransformerConfig(vocab_size=16, grid=4, width=8, depth=1, heads=2, mlp_ratio=2, text_dim=8))


def test_training_logs_loss_curve_and_eval_points(tmp_path):
    config = TrainConfig(steps=4, batch_size=4, warmup=2, log_every=1, checkpoint_every=2, eval_every=2)
    calls = []
    model = train_transformer(tiny_transformer(), tiny_data(), config, tmp_path,
                              evaluate=lambda m, step: calls.append(step) or {"score": float(step)})
    assert calls == [2, 4] and not model.training
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0] == "step,wall_s,lr,loss,masked_acc" and len(rows) == 5
    assert (tmp_path / "loss.png").stat().st_size > 0
    assert (tmp_path / "eval.csv").read_text().splitlines()[0] == "step,wall_s,score"
    assert torch.load(tmp_path / "state.pt", weights_only=True)["step"] == 4


def test_resume_from_checkpoint_matches(tmp_path):
    """Kill after step 2 (state saved), rerun the same command: same weights as one run to step 4."""
    config = TrainConfig(steps=4, batch_size=4, warmup=2, log_every=1, checkpoint_every=2)
    reference = train_transformer(tiny_transformer(), tiny_data(), config, tmp_path / "a")
    out = tmp_path / "b"
    train_transformer(tiny_transformer(), tiny_data(), config, out)
    state = torch.load(out / "state.pt", weights_only=True)
    # Rewind: rebuild the step-2 state by training a fresh copy with a stop at 2 under the same schedule.
    partial = tiny_transformer()
    from reference_model.training import draw_batch as _db, make_optimizer, masked_loss, save_state

    opt = make_optimizer(partial, config)
    for step in range(2):
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step, config.steps, config.warmup, config.lr)
        loss, _ = masked_loss(partial, _db(tiny_data(), config, step, 16), config.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(partial.parameters(), config.grad_clip)
        opt.step()
    save_state(out / "state.pt", partial, opt, 2, 0.0)
    resumed = train_transformer(tiny_transformer(), tiny_data(), config, out)
    assert state["step"] == 4
    for (k, a), (_, b) in zip(reference.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k
    steps = [int(float(r.split(",")[0])) for r in (out / "loss.csv").read_text().splitlines()[1:]]
    assert steps == [1, 2, 3, 4]  # rows after the resume point were redone, not duplicated


def test_batches_are_a_function_of_step_and_text_dropout_rate():
    data = tiny_data(64)
    config = TrainConfig(batch_size=4096, text_dropout=0.1)
    a, b = draw_batch(data, config, 7, 16), draw_batch(data, config, 7, 16)
    assert all(torch.equal(x, y) for x, y in zip(a[:5], b[:5])) and a[5] is b[5] is None  # no low-res tokens: the base model
    assert not torch.equal(draw_batch(data, config, 8, 16)[0], a[0])
    dropped = (a[4].sum(1) == data.text_mask[4].sum()) & (a[3][:, 0] == data.text_hidden[4, 0].float()).all(1)
    assert abs(dropped.float().mean().item() - 0.1) < 0.02


def test_alternative_captions_replace_a_share_of_captions_and_change_nothing_when_off():
    from dataclasses import replace

    data = tiny_data(64)
    alt = torch.where(torch.arange(64) % 2 == 0, torch.full((64,), 3), torch.full((64,), -1))  # even rows: row 3
    with_alt = replace(data, caption_index=torch.zeros(64, dtype=torch.long), alt_caption_index=alt)
    plain = replace(with_alt, alt_caption_index=None)
    off = TrainConfig(batch_size=512, text_dropout=0.0)
    assert all(torch.equal(x, y) for x, y in zip(draw_batch(with_alt, off, 5, 16)[:5], draw_batch(plain, off, 5, 16)[:5]))
    on = TrainConfig(batch_size=4096, text_dropout=0.0, alt_caption_prob=0.5)
    g = torch.Generator().manual_seed(on.seed * 1_000_003 + 5)
    rows = torch.randint(0, 64, (on.batch_size,), generator=g)  # the batch's images, as draw_batch draws them
    hidden = draw_batch(with_alt, on, 5, 16)[3]
    used_alt = (hidden[:, 0] == data.text_hidden[3, 0].float()).all(1)
    assert not used_alt[rows % 2 == 1].any()  # images without an alternative keep their caption
    assert abs(used_alt[rows % 2 == 0].float().mean().item() - 0.5) < 0.03


def test_warmup_cosine_schedule():
    lrs = [warmup_cosine(s, 100, 10, 1.0) for s in range(100)]
    assert lrs[9] == 1.0 and lrs[0] == 0.1
    assert math.isclose(warmup_cosine(100, 100, 10, 1.0), 0.1)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))


def test_vq_training_runs_restarts_codes_and_reports(tmp_path):
    images = torch.full((16, 3, 16, 16), 20, dtype=torch.uint8)
    images[:, 0, 4:9, 4:9] = 230  # a red square on a flat background
    assert background_mask(images)[0, 0, 0, 0] and not background_mask(images)[0, 0, 5, 5]
    torch.manual_seed(0)
    vq = VQModel(VQConfig(image_size=16, channels=(8, 8, 8), res_blocks=(0, 1, 0), codebook_size=16, code_dim=4))
    config = VQTrainConfig(steps=4, batch_size=4, warmup=1, restart_every=2, log_every=1, checkpoint_every=2)
    train_vq(vq, images, config, tmp_path)
    rows = (tmp_path / "vq_loss.csv").read_text().splitlines()
    assert len(rows) == 5 and float(rows[2].split(",")[-1]) > 0  # dead codes restarted at step 2
    stats = reconstruction_stats(vq, images)
    assert 1 <= stats["codes_used"] <= 16 and stats["perplexity"] >= 1 and stats["psnr_db"] > 0


def test_truncating_a_log_with_nothing_to_drop_leaves_its_bytes(tmp_path):
    from reference_model.training_log import truncate_after

    log = tmp_path / "loss.csv"
    log.write_text("step,loss\n20,0.5\n40,0.25\n")  # as an earlier version wrote it (integer steps)
    truncate_after(log, 40)  # re-running a finished stage
    assert log.read_text() == "step,loss\n20,0.5\n40,0.25\n"
    truncate_after(log, 20)  # a resume from step 20 redoes step 40
    assert [line.split(",")[0] for line in log.read_text().splitlines()[1:]] in (["20"], ["20.0"])


def test_two_processes_train_the_same_model_as_one(tmp_path):
    """Data-parallel (2 forked ranks, gloo): the ranks' gradients sum to the whole batch's, so the weights
    match one process up to float summation order; rank 0 alone writes the logs and the state."""
    config = TrainConfig(steps=4, batch_size=6, warmup=2, log_every=1, checkpoint_every=2)
    single = train_transformer(tiny_transformer(), tiny_data(), config, tmp_path / "one")
    calls = []
    model = tiny_transformer()
    from dataclasses import replace

    parallel = train_transformer(model, tiny_data(), replace(config, procs=2, eval_every=2), tmp_path / "two",
                                 evaluate=lambda m, step: calls.append(step) or {"score": 1.0})
    assert parallel is model and not model.training
    for (k, a), (_, b) in zip(single.state_dict().items(), parallel.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)
    untrained = tiny_transformer().state_dict()
    assert any(not torch.equal(untrained[k], v) for k, v in parallel.state_dict().items())  # it trained
    one = (tmp_path / "one" / "loss.csv").read_text().splitlines()
    two = (tmp_path / "two" / "loss.csv").read_text().splitlines()
    assert len(two) == len(one) == 5  # one header, one row per step: written once, not per rank
    for a, b in zip(one[1:], two[1:]):
        loss_a, loss_b = float(a.split(",")[3]), float(b.split(",")[3])
        acc_a, acc_b = float(a.split(",")[4]), float(b.split(",")[4])
        assert loss_a == pytest.approx(loss_b, rel=1e-5) and acc_a == pytest.approx(acc_b)
    assert (tmp_path / "two" / "eval.csv").read_text().count("\n") == 3  # header + steps 2, 4 from rank 0 only
    assert torch.load(tmp_path / "two" / "state.pt", weights_only=True)["step"] == 4


def test_a_failing_rank_stops_the_data_parallel_run_with_its_error(tmp_path):
    def evaluate(model, step):
        raise ValueError("the evaluation broke")

    config = TrainConfig(steps=4, batch_size=4, warmup=2, eval_every=2, procs=2)
    with pytest.raises(RuntimeError, match=r"rank 0 of 2 failed(.|\n)*ValueError: the evaluation broke"):
        train_transformer(tiny_transformer(), tiny_data(), config, tmp_path, evaluate=evaluate)


def test_a_corrupt_state_file_is_one_error_with_two_processes_too(tmp_path):
    from reference_model.errors import ReferenceModelError

    (tmp_path / "state.pt").write_bytes(b"not a checkpoint")
    config = TrainConfig(steps=4, batch_size=4, warmup=2, procs=2)
    with pytest.raises(ReferenceModelError, match="state.pt: cannot resume .*delete it to start over"):
        train_transformer(tiny_transformer(), tiny_data(), config, tmp_path)


def random_images() -> torch.Tensor:
    return torch.randint(0, 256, (16, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))


def tiny_vq() -> VQModel:
    torch.manual_seed(0)
    return VQModel(VQConfig(image_size=16, channels=(8, 8, 8), res_blocks=(0, 1, 0), codebook_size=64, code_dim=4))


def test_vq_training_resumed_after_a_kill_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    """The dead-code restart's state (codes used since the last restart, its generator) is part of the
    checkpoint, so a resume restarts the same codes with the same encodings."""
    from reference_model import vq_training

    images, fresh = random_images(), tiny_vq
    config = VQTrainConfig(steps=8, batch_size=4, warmup=1, restart_every=2, log_every=1, checkpoint_every=3)
    reference = train_vq(fresh(), images, config, tmp_path / "a")
    real_append = vq_training.training_log.append_row

    def killed_at_step_5(path, row):
        if row["step"] == 5:
            raise KeyboardInterrupt  # like kill -9 after the step-3 checkpoint
        real_append(path, row)

    monkeypatch.setattr(vq_training.training_log, "append_row", killed_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_vq(fresh(), images, config, tmp_path / "b")
    monkeypatch.setattr(vq_training.training_log, "append_row", real_append)
    assert torch.load(tmp_path / "b" / "vq_state.pt", weights_only=True)["step"] == 3
    resumed = train_vq(fresh(), images, config, tmp_path / "b")
    restarted = [float(r.split(",")[-1]) for r in (tmp_path / "a" / "vq_loss.csv").read_text().splitlines()[1:]]
    assert sum(restarted[3:]) > 0  # codes were restarted after the resume point
    for (k, a), (_, b) in zip(reference.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k


def test_vq_with_two_processes_matches_one(tmp_path):
    """Data-parallel VQ: the summed losses are the whole batch's, the dead-code restart sees every rank's
    codes and the whole batch's encodings, so the weights match one process up to float order."""
    images, fresh = random_images(), tiny_vq
    config = VQTrainConfig(steps=4, batch_size=4, warmup=1, restart_every=2, log_every=1, checkpoint_every=2)
    single = train_vq(fresh(), images, config, tmp_path / "one")
    from dataclasses import replace

    parallel = train_vq(fresh(), images, replace(config, procs=2), tmp_path / "two")
    for (k, a), (_, b) in zip(single.state_dict().items(), parallel.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=k)
    one = (tmp_path / "one" / "vq_loss.csv").read_text().splitlines()
    two = (tmp_path / "two" / "vq_loss.csv").read_text().splitlines()
    assert len(one) == len(two) == 5
    for a, b in zip(one[1:], two[1:]):
        a, b = [float(v) for v in a.split(",")], [float(v) for v in b.split(",")]
        assert a[2] == pytest.approx(b[2], rel=1e-4) and a[4:] == b[4:]  # loss; codes in batch, restarted
    assert float(two[2].split(",")[-1]) > 0  # codes were restarted at step 2
    with pytest.raises(Exception, match="VQ batch size 5 is not a multiple of 2 processes"):
        train_vq(fresh(), images, replace(config, batch_size=5, procs=2), tmp_path / "three")
