"""Training loop of the masked transformer on precomputed tensors (Muse §2.4, MaskGIT §3.2).

Inputs are plain tensors: VQ token ids of the training images and the frozen text encoder's
hidden states of each unique caption (computed once, stored fp16). Rules:
- cosine masking ratio per example, loss on masked tokens only (masking.py);
- cross-entropy with label smoothing 0.1 (MaskGIT's default);
- 10 % of captions replaced by the empty caption, so the same network gives l_uncond (Muse §2.7);
- AdamW, linear warm-up then cosine decay (lr_schedule.py).
Every batch is drawn from a generator seeded with (seed, step), so a resumed run sees exactly the
batches an uninterrupted one would. State is saved atomically every `checkpoint_every` steps.
With `procs` > 1 the batch is split over that many forked processes (data_parallel.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from reference_model import data_parallel, training_log
from reference_model.atomic_file import write_atomic_via
from reference_model.data_parallel import Shard
from reference_model.errors import ReferenceModelError
from reference_model.masking import random_mask
from reference_model.lr_schedule import warmup_cosine
from reference_model.transformer import MaskedTransformer


@dataclass(frozen=True)
class TokenData:
    tokens: torch.Tensor  # (N, seq) int: VQ ids of the training images
    caption_index: torch.Tensor  # (N,) long: row of each image's caption in text_hidden
    text_hidden: torch.Tensor  # (U, L, D) fp16: encoder states of each unique caption
    text_mask: torch.Tensor  # (U, L) bool, True = real token
    empty_index: int  # row of the empty caption "" (the unconditional input)
    # Another caption of the same image (a paraphrase, e.g. "B right of A" for "A left of B"), row in
    # text_hidden, -1 where an image has none; used with probability TrainConfig.alt_caption_prob.
    alt_caption_index: torch.Tensor | None = None  # (N,) long
    # The super-resolution stage's low-res tokens of each image (super_res.py), None for the base model.
    lowres_tokens: torch.Tensor | None = None  # (N, n) int


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 6000  # optimizer steps (the cosine decay ends here)
    batch_size: int = 64
    lr: float = 1e-3  # peak learning rate
    warmup: int = 200  # linear warm-up steps
    weight_decay: float = 0.01  # on matrices only (nanoGPT's split)
    betas: tuple[float, float] = (0.9, 0.99)
    label_smoothing: float = 0.1  # MaskGIT
    text_dropout: float = 0.1  # Muse §2.7: 10 % empty captions train the unconditional branch
    alt_caption_prob: float = 0.0  # chance of TokenData.alt_caption_index's caption, where there is one
    grad_clip: float = 1.0
    seed: int = 0
    log_every: int = 20  # steps between loss.csv rows
    checkpoint_every: int = 200  # steps between state.pt saves
    eval_every: int = 0  # steps between evaluate() calls (0: never)
    procs: int = 1  # data-parallel processes; > 1 changes only the float summation order (data_parallel.py)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def draw_batch(data: TokenData, config: TrainConfig, step: int, mask_id: int):
    """The batch of `step`: (masked ids, target ids, mask, text hidden, text mask), reproducible."""
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    rows = torch.randint(0, data.tokens.shape[0], (config.batch_size,), generator=g)
    target = data.tokens[rows].long()  # (B, seq)
    caption = data.caption_index[rows]  # (B,)
    if config.alt_caption_prob > 0 and data.alt_caption_index is not None:  # no extra draw otherwise
        alt = data.alt_caption_index[rows]  # (B,)
        use = (torch.rand(config.batch_size, generator=g) < config.alt_caption_prob) & (alt >= 0)
        caption = torch.where(use, alt, caption)
    drop = torch.rand(config.batch_size, generator=g) < config.text_dropout
    caption = torch.where(drop, torch.full_like(caption, data.empty_index), caption)
    ids, mask = random_mask(target, mask_id, g)
    lowres = None if data.lowres_tokens is None else data.lowres_tokens[rows]
    return ids, target, mask, data.text_hidden[caption].float(), data.text_mask[caption], lowres


def batch_context(model, hidden: torch.Tensor, text_mask: torch.Tensor, lowres: torch.Tensor | None):
    """The model's context of a batch: text only, or text + low-res tokens (super_res.py)."""
    return model.text_context(hidden, text_mask) if lowres is None else model.sr_context(hidden, text_mask, lowres)


def masked_loss(model: MaskedTransformer, batch, label_smoothing: float) -> tuple[torch.Tensor, float]:
    ids, target, mask, hidden, text_mask, lowres = batch
    logits = model(ids, batch_context(model, hidden, text_mask, lowres))  # (B, seq, K)
    picked, wanted = logits[mask], target[mask]  # (M, K), (M,): masked positions only
    loss = F.cross_entropy(picked, wanted, label_smoothing=label_smoothing)
    accuracy = (picked.argmax(-1) == wanted).float().mean().item()
    return loss, accuracy


def save_state(path: Path, model, optimizer, step: int, wall_s: float) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "wall_s": wall_s}
    write_atomic_via(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path, model, optimizer=None) -> tuple[int, float]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
    except Exception as exc:
        raise ReferenceModelError(
            f"{path}: cannot resume ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
            "delete it to start over"
        ) from exc
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    return int(state["step"]), float(state["wall_s"])


def shard_loss(model: MaskedTransformer, batch, label_smoothing: float, shard: Shard) -> tuple[torch.Tensor, float]:
    """This rank's part of the whole batch's masked loss: (sum over its rows / the batch's masked count,
    its correct predictions), so the ranks' losses and gradients sum to the single-process ones."""
    total = batch[2].sum()  # masked tokens of the whole batch
    ids, target, mask, hidden, text_mask, lowres = (None if t is None else t[shard.rows(t.shape[0])] for t in batch)
    logits = model(ids, batch_context(model, hidden, text_mask, lowres))  # (B / P, seq, K)
    picked, wanted = logits[mask], target[mask]
    loss = F.cross_entropy(picked, wanted, label_smoothing=label_smoothing, reduction="sum") / total
    return loss, float((picked.argmax(-1) == wanted).sum())


def train_transformer(
    model: MaskedTransformer,
    data: TokenData,
    config: TrainConfig,
    out_dir: Path,
    evaluate: Callable[[MaskedTransformer, int], dict[str, float]] | None = None,
) -> MaskedTransformer:
    """Train (or resume from out_dir/state.pt) to config.steps; logs loss.csv/.png, eval.csv.

    With config.procs > 1 the training runs in forked processes and `model` then loads the result.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.procs > 1 and (out_dir / "state.pt").exists():  # a bad state file: the one-line error, from here
        load_state(out_dir / "state.pt", model, make_optimizer(model, config))
    data_parallel.run(lambda shard: _train(model, data, config, out_dir, evaluate, shard), config.procs)
    if config.procs > 1:
        load_state(out_dir / "state.pt", model)  # written by rank 0 at the last step
    model.eval()
    return model


def _train(model, data: TokenData, config: TrainConfig, out_dir: Path, evaluate, shard: Shard) -> None:
    state_path, loss_csv, eval_csv = out_dir / "state.pt", out_dir / "loss.csv", out_dir / "eval.csv"
    optimizer = make_optimizer(model, config)
    params = list(model.parameters())
    step, wall = (0, 0.0)
    if state_path.exists():
        step, wall = load_state(state_path, model, optimizer)
    if shard.is_main:
        training_log.truncate_after(loss_csv, step)
        training_log.truncate_after(eval_csv, step)
    model.train()
    mask_id = model.config.mask_id
    bar = tqdm(total=config.steps, initial=step, desc="transformer", mininterval=10, disable=not shard.is_main)
    t0 = time.perf_counter() - wall
    while step < config.steps:
        lr = warmup_cosine(step, config.steps, config.warmup, config.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = draw_batch(data, config, step, mask_id)
        optimizer.zero_grad(set_to_none=True)
        if shard.world == 1:
            loss, accuracy = masked_loss(model, batch, config.label_smoothing)
            loss.backward()
            loss_value = loss.item()
        else:
            loss, correct = shard_loss(model, batch, config.label_smoothing, shard)
            loss.backward()
            loss_value, correct = data_parallel.all_reduce_grads(params, [loss.item(), correct])
            accuracy = correct / float(batch[2].sum())
        torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        step += 1
        bar.update(1)
        if not shard.is_main:
            continue
        if step % config.log_every == 0 or step == config.steps:
            row = {"step": step, "wall_s": time.perf_counter() - t0, "lr": lr, "loss": loss_value, "masked_acc": accuracy}
            training_log.append_row(loss_csv, row)
            bar.set_postfix(loss=f"{loss_value:.3f}", acc=f"{accuracy:.3f}")
        if evaluate is not None and config.eval_every and (step % config.eval_every == 0 or step == config.steps):
            model.eval()
            metrics = evaluate(model, step)
            model.train()
            training_log.append_row(eval_csv, {"step": step, "wall_s": time.perf_counter() - t0, **metrics})
        if step % config.checkpoint_every == 0 or step == config.steps:
            save_state(state_path, model, optimizer, step, time.perf_counter() - t0)
            training_log.plot(loss_csv, out_dir / "loss.png", ["loss", "masked_acc", "lr"], "masked transformer")
    bar.close()
