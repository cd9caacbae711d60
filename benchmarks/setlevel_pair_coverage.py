"""Coverage of the FID-difference intervals `musebench compare` prints, paired and unpaired, by simulation.

Two systems scored on the same items (prompt + seed), e.g. a super-resolution stage and bicubic
upsampling of the same base image: row i of x and row i of y come from one latent z_i, so they are
correlated. `compare` tests FID(y) - FID(x) against one reference held fixed, by
- `paired`: stats/paired.py paired_set_bootstrap (items resampled with both rows), shipped when both
  rows carry the same items_digest;
- `unpaired`: stats/paired.py two_sample_bootstrap (x and y resampled independently), what ran before
  and still runs for rows of different items.
Both use the shipped statistic (results/compare_setlevel.fid_difference) with 200 rounds and the basic
interval. Features are Gaussian, D = 64, latent z ~ N(0, diag(1 / (1 + i/4))):
  x = z + 0.25 e1                              (bicubic: the base image plus its own error)
  y = 0.97 z + 0.02 + 0.25 e2   ("effect")     (the stage: a little less spread, a small shift)
  y = z + 0.25 e2               ("null")       (the same distribution as x: the truth is 0)
so x and y correlate 0.6-0.94 per coordinate. The reference is M = 5,000 draws of N(0, diag(...))
per simulated data set; the truth is the difference of the two populations' FIDs against that
reference's own statistics (what "reference held fixed" estimates; frechet.frechet_distance), and
the truth against the reference population is also scored. Coverage comes with its exact
(Clopper-Pearson) 95 % interval; the null scenario's rejection rate at 5 % is the test's size.

    python3 benchmarks/setlevel_pair_coverage.py --draws 200   # writes the JSON below
    python3 benchmarks/setlevel_pair_coverage.py --quick       # 10 draws: a smoke run, not a result
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per worker
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from interval_coverage import clopper_pearson  # noqa: E402  benchmarks/ is sys.path[0] when run as a script

OUT = Path(__file__).resolve().parent / "results" / "setlevel_pair_coverage.json"
D, M, ROUNDS = 64, 5000, 200
SIZES = (500, 2000)
NOISE, SCALE, SHIFT = 0.25, 0.97, 0.02
LAMBDA = 1.0 / (1.0 + np.arange(D) / 4.0)  # (D,) the latent's spectrum
SCENARIOS = {"effect": "y = 0.97 z + 0.02 + 0.25 e2: a small true FID difference",
             "null": "y = z + 0.25 e2: y distributed as x, true difference 0"}


def scale_shift(scenario: str) -> tuple[float, float]:
    """y = scale z + shift + noise: the stage's change to the shared latent ("null": none)."""
    return (SCALE, SHIFT) if scenario == "effect" else (1.0, 0.0)


def populations(scenario: str) -> dict:
    """The means and covariances of x and y, and of the reference population."""
    scale, shift = scale_shift(scenario)
    return {"mu_x": np.zeros(D), "s_x": np.diag(LAMBDA + NOISE**2),
            "mu_y": np.full(D, shift), "s_y": np.diag(scale**2 * LAMBDA + NOISE**2),
            "mu_r": np.zeros(D), "s_r": np.diag(LAMBDA)}


def draw(scenario: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (n, D), y (n, D), reference (M, D)): x and y paired through one latent per row."""
    scale, shift = scale_shift(scenario)
    z = rng.normal(size=(n, D)) * np.sqrt(LAMBDA)  # (n, D)
    x = z + NOISE * rng.normal(size=(n, D))
    y = scale * z + shift + NOISE * rng.normal(size=(n, D))
    ref = rng.normal(size=(M, D)) * np.sqrt(LAMBDA)  # (M, D)
    return x, y, ref


def run_job(job: tuple[str, int, int]) -> dict:
    from musebench.metrics.frechet import frechet_distance
    from musebench.metrics.stats import stats_from_features
    from musebench.results.compare_setlevel import fid_difference
    from musebench.stats.paired import paired_set_bootstrap, two_sample_bootstrap

    scenario, n, draws = job
    pop = populations(scenario)
    truth_pop = (frechet_distance(pop["mu_y"], pop["s_y"], pop["mu_r"], pop["s_r"])
                 - frechet_distance(pop["mu_x"], pop["s_x"], pop["mu_r"], pop["s_r"]))
    seeds = np.random.SeedSequence([SIZES.index(n), list(SCENARIOS).index(scenario)]).spawn(draws)
    tally = {m: {"covered": 0, "covered_population": 0, "rejected": 0, "widths": []} for m in ("paired", "unpaired")}
    estimates, truths = [], []
    for i, ss in enumerate(seeds):
        x, y, ref = draw(scenario, n, np.random.default_rng(ss))
        ref_stats = stats_from_features(ref)
        truth = (frechet_distance(pop["mu_y"], pop["s_y"], ref_stats.mu, ref_stats.sigma)
                 - frechet_distance(pop["mu_x"], pop["s_x"], ref_stats.mu, ref_stats.sigma))
        statistic = fid_difference(ref_stats)
        for name, test in (("paired", paired_set_bootstrap), ("unpaired", two_sample_bootstrap)):
            r = test(x, y, statistic, rounds=ROUNDS, seed=i)
            low, high = r.ci95
            t = tally[name]
            t["covered"] += int(low <= truth <= high)
            t["covered_population"] += int(low <= truth_pop <= high)
            t["rejected"] += int(r.p_value < 0.05)
            t["widths"].append(high - low)
            if name == "paired":
                estimates.append(r.diff)
        truths.append(truth)
    return {"scenario": scenario, "n": n, "draws": draws, "truth_population": truth_pop,
            "truth_mean": float(np.mean(truths)), "estimate_mean": float(np.mean(estimates)),
            "methods": {m: {"covered": t["covered"], "covered_population": t["covered_population"],
                            "rejected": t["rejected"], "mean_width": float(np.mean(t["widths"]))}
                        for m, t in tally.items()}}


def rows(results: list[dict]) -> list[dict]:
    out = []
    for r in results:
        for method, t in r["methods"].items():
            out.append({"scenario": r["scenario"], "n": r["n"], "draws": r["draws"], "bootstrap": method,
                        "shipped_for": "rows of the same items" if method == "paired" else "rows of different items",
                        "coverage": t["covered"] / r["draws"], "coverage_ci95": clopper_pearson(t["covered"], r["draws"]),
                        "coverage_of_population_truth": t["covered_population"] / r["draws"],
                        "rejection_rate_at_5pct": t["rejected"] / r["draws"],
                        "rejection_ci95": clopper_pearson(t["rejected"], r["draws"]),
                        "mean_width": t["mean_width"], "truth_mean": r["truth_mean"],
                        "truth_population": r["truth_population"], "estimate_mean": r["estimate_mean"]})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: python3 benchmarks/setlevel_pair_coverage.py --draws 200")
    parser.add_argument("--draws", type=int, default=200, help="simulated data sets per (scenario, N); >= 200 for a result")
    parser.add_argument("--quick", action="store_true", help="10 draws, written to a temp file: a smoke run")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    draws = 10 if args.quick else args.draws
    jobs = sorted(((s, n, draws) for s in SCENARIOS for n in SIZES), key=lambda j: -j[1])
    start = time.perf_counter()
    with Pool(2) as pool:
        results = pool.map(run_job, jobs, chunksize=1)
    result = {"command": "python3 " + " ".join(["benchmarks/setlevel_pair_coverage.py",
                                                 *(argv if argv is not None else sys.argv[1:])]),
              "setup": {"feature_dim": D, "reference_n": M, "bootstrap_rounds": ROUNDS,
                        "latent_spectrum": "1 / (1 + i/4)", "x": f"z + {NOISE} e1", "scenarios": SCENARIOS},
              "rows": rows(results), "runtime_s": round(time.perf_counter() - start, 1),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "workers": 2}}
    from musebench.cache.atomic import write_durable

    out = write_durable(Path("/tmp/setlevel_pair_coverage_quick.json") if args.quick else args.out,
                        (json.dumps(result, indent=1) + "\n").encode())
    for r in result["rows"]:
        low, high = r["coverage_ci95"]
        print(f"{r['scenario']:<7} N={r['n']:<5} {r['bootstrap']:<9} coverage {r['coverage']:.3f} [{low:.3f}, {high:.3f}] "
              f"rejects {r['rejection_rate_at_5pct']:.3f}  width {r['mean_width']:.5f}  truth {r['truth_mean']:+.5f}")
    print(f"wrote {out} in {result['runtime_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
