"""FID from cached 2048-d statistics: seconds per FID, written to results/metrics_fid_speed.json.

Two cached .npz files (mu, sigma of N = 5000 synthetic 2048-d features; the reference also holds
its square-root factor, as musebench caches reference statistics). Timed: load both + FID (the
`musebench metrics fid A.npz B.npz` path), FID alone with the factor cached, FID from scratch
(frechet_distance, one extra eigendecomposition), and for comparison torchmetrics' eigvals and
scipy.linalg.sqrtm (pytorch-fid, clean-fid). Median of --repeats. Target (issue 6): <= 1 s.
Also the whole command, `python -m musebench metrics fid gen.npz ref.npz`, in fresh processes with
OMP_NUM_THREADS unset (issue 24: <= 1 s wall, no torch import, no extractor), and whether it imported
torch (one more run under `python -X importtime`). The load average is recorded: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "metrics_fid_speed.json"
ROOT = Path(__file__).resolve().parents[1]
COMMAND_ENV = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}  # before main() sets it


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _command_times(gen: Path, ref: Path, repeats: int) -> dict:
    """Wall seconds of `python -m musebench metrics fid gen ref` in fresh processes, and whether it imports torch."""
    argv = ["-m", "musebench", "metrics", "fid", str(gen), str(ref)]
    env = {**COMMAND_ENV, "PYTHONPATH": str(ROOT)}

    def once(*flags: str) -> subprocess.CompletedProcess:
        out = subprocess.run([sys.executable, *flags, *argv], capture_output=True, text=True, env=env, cwd=ROOT)
        if out.returncode != 0:
            raise SystemExit(f"metrics fid failed: {out.stderr.strip()}")
        return out

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = json.loads(once().stdout)["value"]
        times.append(time.perf_counter() - t0)
    imported = [line.rsplit("|", 1)[-1].strip() for line in once("-X", "importtime").stderr.splitlines()]
    return {"command": "python -m musebench metrics fid gen.npz ref.npz", "command_wall_s": float(np.median(times)),
            "command_wall_all_s": times, "command_value": value, "command_imports_torch": "torch" in imported,
            "command_imports_scipy": "scipy" in imported}


def write_stats_pair(folder: Path, dim: int, n: int):
    """gen.npz and ref.npz (the reference with its square-root factor, as `metrics stats` writes it)
    of N synthetic correlated features each, seed 0: (gen path, ref path, gen stats, ref stats)."""
    from musebench.metrics.stats import save_stats, stats_from_features

    rng = np.random.default_rng(0)
    mix = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    a = stats_from_features(rng.normal(size=(n, dim)) @ mix)
    b = stats_from_features((rng.normal(size=(n, dim)) * 1.1 + 0.2) @ mix)
    save_stats(folder / "gen.npz", a)
    save_stats(folder / "ref.npz", b.with_factor())
    return folder / "gen.npz", folder / "ref.npz", a, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slow-baselines", action="store_true", help="also time scipy.linalg.sqrtm (~20 s each)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from musebench.metrics import frechet_distance
    from musebench.metrics.stats import fid, load_stats

    with tempfile.TemporaryDirectory() as tmp:
        pa, pb, a, b = write_stats_pair(Path(tmp), args.dim, args.n)
        ref = load_stats(pb)
        result = {
            "dim": args.dim, "n": args.n, "repeats": args.repeats, "threads": args.threads,
            "load_and_fid_s": _median_time(lambda: fid(load_stats(pa), load_stats(pb)), args.repeats),
            "fid_cached_factor_s": _median_time(lambda: fid(a, ref), args.repeats),
            "frechet_distance_from_scratch_s": _median_time(lambda: frechet_distance(a.mu, a.sigma, b.mu, b.sigma), args.repeats),
            "load_avg_before_command": os.getloadavg(),
            **_command_times(pa, pb, args.repeats),
        }
    from torchmetrics.image.fid import _compute_fid

    t = [torch.from_numpy(x) for x in (a.mu, a.sigma, b.mu, b.sigma)]
    result["torchmetrics_eigvals_s"] = _median_time(lambda: _compute_fid(*t), max(1, args.repeats // 2))
    if args.slow_baselines:
        from cleanfid.fid import frechet_distance as cleanfid_fd

        result["cleanfid_sqrtm_s"] = _median_time(lambda: cleanfid_fd(a.mu, a.sigma, b.mu, b.sigma), 1)
    result["target_s"] = 1.0
    result["meets_target"] = result["load_and_fid_s"] <= 1.0
    result["command_meets_target"] = result["command_wall_s"] <= 1.0
    result["load_avg"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".tmp").write_text(json.dumps(result, indent=2) + "\n")
    OUT.with_suffix(".tmp").replace(OUT)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
