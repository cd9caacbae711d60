"""Training speed of the reference Muse's masked transformer: 1 process vs data-parallel processes.

    python benchmarks/training_throughput.py [--procs 1 2] [--steps 60] [--rounds 2]

Trains the shipped muse-shapes transformer's shape (width 128, depth 6, 4 heads, K = 512, 8x8 tokens,
16 text tokens of 384-d, batch 64; random token ids and text states: the cost does not depend on
the values) through reference_model.training.train_transformer, the code the training command runs,
once per --procs value per round; rounds interleave the settings, so each is compared under the
same machine load. Time per step comes from the run's own loss.csv (wall_s between the first and
last logged step), so process start-up and the first steps are not counted. Each process uses
--threads threads. The VQ tokenizer's step (batch 32 of 32 px images) is timed the same way.
Writes benchmarks/results/training_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results" / "training_throughput.json"


def token_data(n: int = 4096):
    from reference_model.training import TokenData

    g = torch.Generator().manual_seed(0)
    mask = torch.ones(64, 16, dtype=torch.bool)
    mask[:, 10:] = False
    return TokenData(tokens=torch.randint(0, 512, (n, 64), generator=g).to(torch.int16),
                     caption_index=torch.randint(0, 63, (n,), generator=g),
                     text_hidden=torch.randn(64, 16, 384, generator=g).half(), text_mask=mask, empty_index=63)


def seconds_per_step(procs: int, steps: int, threads: int) -> float:
    from reference_model.config import TransformerConfig
    from reference_model.training import TrainConfig, train_transformer
    from reference_model.transformer import MaskedTransformer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MaskedTransformer(TransformerConfig(vocab_size=512, grid=8, width=128, depth=6, heads=4))
    config = TrainConfig(steps=steps, batch_size=64, log_every=10, checkpoint_every=10**9, procs=procs)
    with tempfile.TemporaryDirectory() as tmp:
        train_transformer(model, token_data(), config, Path(tmp))
        return _logged_seconds_per_step(Path(tmp) / "loss.csv")


def vq_seconds_per_step(procs: int, steps: int, threads: int) -> float:
    """The VQ tokenizer's training step (batch 32 of 32 px images, K = 512) through train_vq."""
    from reference_model.config import VQConfig
    from reference_model.tokenizer import VQModel
    from reference_model.vq_training import VQTrainConfig, train_vq

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = VQModel(VQConfig(codebook_size=512))
    images = torch.randint(0, 256, (512, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    config = VQTrainConfig(steps=steps, batch_size=32, log_every=10, checkpoint_every=10**9, procs=procs)
    with tempfile.TemporaryDirectory() as tmp:
        train_vq(model, images, config, Path(tmp))
        return _logged_seconds_per_step(Path(tmp) / "vq_loss.csv")


def _logged_seconds_per_step(csv: Path) -> float:
    """Seconds per step between a training log's first and last rows (start-up not counted)."""
    from reference_model.training_log import read_rows

    rows = read_rows(csv)
    return (rows[-1]["wall_s"] - rows[0]["wall_s"]) / (rows[-1]["step"] - rows[0]["step"])


def _interleaved(name: str, time_one, args) -> dict[int, list[float]]:
    """time_one(procs, steps, threads) for each --procs value, round after round (paired under load)."""
    runs = {p: [] for p in args.procs}
    for r in range(args.rounds):
        for p in args.procs:
            runs[p].append(time_one(p, args.steps, args.threads))
            print(f"round {r + 1}: {name}, {p} process(es): {runs[p][-1] * 1000:.0f} ms/step", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--steps", type=int, default=60, help="training steps per timed run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if min(args.procs) < 1 or args.steps < 20 or args.rounds < 1:
        parser.error("--procs must be >= 1, --steps >= 20 (two logged points after the first), --rounds >= 1")
    runs = _interleaved("transformer", seconds_per_step, args)
    vq_runs = _interleaved("VQ", vq_seconds_per_step, args)
    best = {p: min(v) for p, v in runs.items()}
    base = best[args.procs[0]]
    vq_best = {p: min(v) for p, v in vq_runs.items()}
    result = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "threads_per_process": args.threads, "batch_size": 64, "steps_per_run": args.steps,
        "transformer": "width 128, depth 6, 4 heads, K 512, 64 image + 16 text tokens (muse-shapes)",
        "seconds_per_step": {str(p): v for p, v in runs.items()},
        "best_seconds_per_step": {str(p): v for p, v in best.items()},
        "speedup_vs_first": {str(p): base / v for p, v in best.items()},
        "vq_seconds_per_step_batch32": {str(p): v for p, v in vq_runs.items()},
        "vq_speedup_vs_first": {str(p): vq_best[args.procs[0]] / v for p, v in vq_best.items()},
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for p in args.procs:
        print(f"{p} process(es): best {best[p] * 1000:.0f} ms/step, {base / best[p]:.2f}x")
    for p in args.procs:
        print(f"VQ, {p} process(es): best {vq_best[p] * 1000:.0f} ms/step, {vq_best[args.procs[0]] / vq_best[p]:.2f}x")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
