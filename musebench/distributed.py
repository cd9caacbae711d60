"""Scale-out: `--shard I/N`, or launch under torchrun / accelerate launch (RANK, WORLD_SIZE).

Each process generates its round-robin share of the missing images into the shared cache. The
merge is exact because every image is seeded on its own (musebench.plan.image_seed). Under
torchrun, the ranks meet at a gloo barrier (an all-reduce of their status and counts) and rank 0
then computes the metrics and writes the results; with `--shard` each process only generates,
and a final `musebench run` without --shard computes the metrics from an all-hit cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from musebench.errors import MusebenchError

BARRIER_TIMEOUT = timedelta(hours=2)  # ranks wait for the slowest one's generation


@dataclass(frozen=True)
class Shard:
    index: int  # 0-based
    count: int
    distributed: bool  # launched by torchrun / accelerate (a process group), not --shard

    @property
    def is_main(self) -> bool:
        return self.index == 0

    @property
    def computes_metrics(self) -> bool:
        """Rank 0 of a process group, or a plain (unsharded) run."""
        return self.index == 0 and (self.distributed or self.count == 1)


def parse_shard(text: str) -> Shard:
    index, sep, count = text.partition("/")
    if not sep or not index.isdigit() or not count.isdigit() or not 0 <= int(index) < int(count):
        raise MusebenchError(f"--shard {text}: expected I/N with 0 <= I < N, e.g. --shard 0/2 and --shard 1/2")
    return Shard(int(index), int(count), distributed=False)


def resolve_shard(flag: str | None) -> Shard:
    """--shard I/N, else RANK/WORLD_SIZE from the launcher, else a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if flag and world > 1:
        raise MusebenchError(f"--shard {flag}: do not combine --shard with torchrun (WORLD_SIZE={world}); use one of them")
    if flag:
        return parse_shard(flag)
    if world > 1:
        return Shard(int(os.environ.get("RANK", "0")), world, distributed=True)
    return Shard(0, 1, distributed=False)


def rank_device(device: str, shard: Shard) -> str:
    """Under torchrun each rank takes its own GPU: `cuda` -> `cuda:$LOCAL_RANK`. Explicit indices stay."""
    if shard.distributed and device == "cuda":
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return device


def init(shard: Shard) -> None:
    if not shard.distributed:
        return
    import torch.distributed as dist

    if not dist.is_initialized():  # env:// rendezvous: MASTER_ADDR / MASTER_PORT from the launcher
        dist.init_process_group("gloo", rank=shard.index, world_size=shard.count, timeout=BARRIER_TIMEOUT)


def gather_counts(shard: Shard, failed: bool, hits: int, misses: int) -> tuple[bool, int, int]:
    """The barrier: sum (failed, hits, misses) over ranks. A single process returns its own."""
    if not shard.distributed:
        return failed, hits, misses
    import torch
    import torch.distributed as dist

    totals = torch.tensor([int(failed), hits, misses], dtype=torch.int64)
    dist.all_reduce(totals)  # gloo: every rank waits here until all have generated their share
    return bool(totals[0].item()), int(totals[1].item()), int(totals[2].item())


def finish(shard: Shard) -> None:
    if not shard.distributed:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
