"""What the opt-in decoding observer (reference_model/decode_trace.py) costs: nothing when off?

    python benchmarks/decode_observer_overhead.py [--before REV] [--rounds 12] [--batch-size 16] [--steps 12]

Times `sampler.decode` on the shipped muse-shapes checkpoint (one micro-batch of --batch-size images,
--steps steps, the checkpoint's guidance, one thread) in four variants: `before` (decode as it was at
--before, loaded from git), `off` (today's decode, trace=None), `trace` (DecodeTrace()) and
`trajectory` (DecodeTrace(trajectory=True)). Rounds alternate the order (A B C D, then D C B A) so a
drift in machine load falls on every variant alike; medians per variant, and the median per-round
ratio to `before` (the variants of a round run back to back). Also checks that every
variant returns the same ids. Writes benchmarks/results/decode_observer_overhead.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "decode_observer_overhead.json"


def decode_at(rev: str):
    """sampler.decode as it was at git revision `rev` (its own module; helpers from today's package)."""
    source = subprocess.run(["git", "show", f"{rev}:reference_model/sampler.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "sampler_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sampler_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sampler_before"] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module.decode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="7293853", help="revision whose decode is the baseline")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    from reference_model.decode_trace import DecodeTrace
    from reference_model.pipeline import MusePipeline
    from reference_model.sampler import SampleParams, decode

    from musebench.models.checkpoints import resolve_checkpoint
    from musebench.shapes import sample_prompts

    pipe = MusePipeline.from_dir(resolve_checkpoint("muse-shapes"))
    sampler = pipe.config.sampler
    params = SampleParams(steps=args.steps, guidance=sampler.guidance, guidance_schedule=sampler.guidance_schedule,
                          temperature=sampler.temperature)
    prompts = [r.prompt for r in sample_prompts("val", args.batch_size, 0)]
    seeds = list(range(args.batch_size))
    before = decode_at(args.before)
    with torch.inference_mode():
        context = pipe._context(prompts, None, guided=params.guidance != 0)
    ids = pipe.all_masked(args.batch_size)  # (B, N)

    def run(name: str) -> torch.Tensor:
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        with torch.inference_mode():
            if name == "before":
                return before(pipe.transformer, context, ids, params, gens)
            trace = {"off": None, "trace": DecodeTrace(), "trajectory": DecodeTrace(trajectory=True)}[name]
            return decode(pipe.transformer, context, ids, params, gens, trace)

    names = ["before", "off", "trace", "trajectory"]
    outputs = {name: run(name) for name in names}  # warm-up, and the identity check
    identical = all(torch.equal(outputs[name], outputs["before"]) for name in names)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            t = time.perf_counter()
            run(name)
            times[name].append(time.perf_counter() - t)
    median = {name: statistics.median(v) for name, v in times.items()}
    result = {
        "what": "sampler.decode wall time per call, muse-shapes, one micro-batch",
        "before_revision": args.before, "batch_size": args.batch_size, "steps": args.steps,
        "guidance": params.guidance, "threads": args.threads, "rounds": args.rounds, "order": "ABCD DCBA ...",
        "identical_ids_all_variants": identical,
        "median_s": median,
        "relative_to_before": {name: median[name] / median["before"] - 1.0 for name in names},
        # per round (the variants ran back to back): median of time / before's time in that round, - 1
        "paired_relative_to_before": {name: statistics.median(t / b - 1.0 for t, b in zip(times[name], times["before"]))
                                      for name in names},
        "times_s": times,
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("identical_ids_all_variants", "median_s", "relative_to_before",
                                         "paired_relative_to_before")}, indent=2))


if __name__ == "__main__":
    main()
