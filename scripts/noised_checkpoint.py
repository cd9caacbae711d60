"""A Muse checkpoint with seeded Gaussian noise on its transformer: a member of known-worse quality
for the metric meta-evaluation (issue 27, suites/meta_evaluation.yaml).

Each transformer tensor W gets W + sigma * std(W) * z, z ~ N(0, 1) from one torch.Generator seeded
with --seed (tensors in sorted key order, so the result depends only on the source, sigma and seed);
the tokenizer (vq.*) is copied unchanged, so images stay in the shapes world's token space and only
the text-to-token model gets worse. config.json is copied as it is; CARD.md says what was done.

    python scripts/noised_checkpoint.py muse-shapes runs/meta_evaluation/checkpoints/muse-noise-0.3 --sigma 0.3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from musebench.errors import MusebenchError  # noqa: E402
from musebench.models.checkpoints import resolve_checkpoint  # noqa: E402
from reference_model.atomic_file import write_atomic_text, write_atomic_via  # noqa: E402
from reference_model.checkpoint_files import CONFIG_FILE, WEIGHTS_FILE, read_weights  # noqa: E402

NOISED_PREFIX = "transformer."  # the tokenizer stays exact: only the text-to-token model is damaged


def noised(tensors: dict, sigma: float, seed: int) -> dict:
    """name -> tensor, each float tensor under NOISED_PREFIX plus sigma * its own std * N(0, 1)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name in sorted(tensors):
        t = tensors[name]
        if name.startswith(NOISED_PREFIX) and t.is_floating_point() and t.numel() > 1:
            z = torch.randn(t.shape, generator=generator, dtype=t.dtype)
            t = t + sigma * t.std() * z
        out[name] = t.contiguous()
    return out


def write_noised(source: str, out_dir: Path, sigma: float, seed: int) -> Path:
    from safetensors.torch import save_file

    if not sigma > 0:
        raise MusebenchError(f"--sigma must be > 0 (noise std relative to each tensor's std), got {sigma}")
    src = resolve_checkpoint(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = noised(read_weights(src / WEIGHTS_FILE), sigma, seed)
    fmt = json.loads((src / CONFIG_FILE).read_text())["format"]
    write_atomic_via(out_dir / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp), metadata={"format": fmt}))
    write_atomic_text(out_dir / CONFIG_FILE, (src / CONFIG_FILE).read_text())
    card = (f"# {out_dir.name}: {src.name} with noised transformer weights\n\n"
            f"Made by `python scripts/noised_checkpoint.py {source} {out_dir} --sigma {sigma} --seed {seed}`: every "
            f"float tensor under `{NOISED_PREFIX}` gets sigma * std(tensor) * N(0, 1), sigma = {sigma}, one "
            f"torch.Generator seeded {seed}, tensors in sorted key order. The tokenizer is unchanged. A deliberately "
            "worse model for the metric meta-evaluation (suites/meta_evaluation.yaml); config.json is the source's, "
            "so its training metrics describe the source, not this copy.\n")
    write_atomic_text(out_dir / "CARD.md", card)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("source", help="a shipped Muse checkpoint name or a checkpoint directory")
    parser.add_argument("out", type=Path, help="the new checkpoint directory")
    parser.add_argument("--sigma", type=float, required=True, help="noise std relative to each tensor's std")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        print(write_noised(args.source, args.out, args.sigma, args.seed))
    except MusebenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
