"""Data-parallel training on one machine: P forked processes, gradients summed with gloo.

Why: this project's training runs on CPUs, where one process with 2 threads is only ~1.3x faster
than one thread (small matmuls, OpenMP overhead), while 2 processes of 1 thread each, each on half of
the batch, run a step in ~0.55x the time of one (benchmarks/training_throughput.py). The same code
serves GPU users who want several processes.

Exactness: every rank draws the whole batch (the draw is a function of (seed, step)), keeps rows
rank, rank + P, ... and divides its summed loss by the whole batch's count, so the summed gradients
are the single-process gradient up to float summation order. The all-reduce is a sum of P values,
the same on every rank, so parameters stay identical across ranks (no broadcast needed) and a run is
deterministic for a given P. It is not bit-identical to P = 1, which is why the training command
records P in its run config.

Processes are forked (not spawned) so the training function may be a closure over models, data and
an evaluation callback. Only rank 0 writes files.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Shard:
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def rows(self, batch: int) -> torch.Tensor:
        """Indices of this rank's rows of a batch of `batch`: rank, rank + world, ..."""
        return torch.arange(self.rank, batch, self.world)


SINGLE = Shard()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, threads: int, fn: Callable[[Shard], None]) -> None:
    torch.set_num_threads(threads)
    # Generous timeout: rank 0 evaluates (curve points) while the others wait in the next all-reduce.
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(hours=6))
    try:
        fn(Shard(rank, world))
    except RuntimeError as exc:
        if "gloo" in str(exc):  # a peer died mid-collective: let that rank's own error be the one reported
            time.sleep(10)
        raise
    finally:
        dist.destroy_process_group()


def run(fn: Callable[[Shard], None], world: int) -> None:
    """Run fn(shard) in `world` forked processes (fn(SINGLE) in this one when world == 1).

    Blocks until all finish; an exception in any rank stops the others and is raised here.
    """
    if world == 1:
        fn(SINGLE)
        return
    import torch.multiprocessing as mp
    from torch.multiprocessing.spawn import ProcessException

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # HF tokenizers warn when forked after use
    try:
        mp.start_processes(_worker, args=(world, _free_port(), torch.get_num_threads(), fn), nprocs=world,
                           join=True, start_method="fork")
    except ProcessException as exc:  # the others were stopped; exc's message holds the rank's traceback
        raise RuntimeError(f"data-parallel training: rank {exc.error_index} of {world} failed:\n{exc}") from None


def all_reduce_grads(params: list[torch.nn.Parameter], extra: list[float]) -> list[float]:
    """Sum the gradients of `params` and the numbers `extra` over all ranks, in one message.

    A parameter without a gradient on this rank contributes zeros (and gets the summed gradient).
    Returns the summed `extra`.
    """
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
                     + [torch.tensor(extra, dtype=params[0].dtype)])
    dist.all_reduce(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n
    return flat[offset:].tolist()


def gather_rows(local: torch.Tensor, shard: Shard) -> torch.Tensor:
    """The whole batch from each rank's rows (rank, rank + world, ...), in the single-process order.
    Every rank must hold the same number of rows."""
    parts = [torch.empty_like(local) for _ in range(shard.world)]
    dist.all_gather(parts, local.contiguous())
    whole = torch.empty((local.shape[0] * shard.world, *local.shape[1:]), dtype=local.dtype)
    for rank, part in enumerate(parts):
        whole[rank :: shard.world] = part
    return whole
