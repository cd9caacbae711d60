"""The cascade page's FID test, stage minus bicubic, resampled paired and unpaired, at 200 and 2,000 rounds.

The report (musebench/report/cascade.py) runs the suite's declared test: the paired set-level bootstrap
(stats/paired.py paired_set_bootstrap, 200 rounds, seed 0, as `musebench compare`). This file shows
what pairing changes, on the same kept features: the independent two-set bootstrap that ran before
(two_sample_bootstrap) beside it, and both again at 2,000 rounds, where a p-value at 200 rounds is
near its floor (2/201) or near 0.05. Same statistic (results/compare_setlevel.fid_difference), same
reference held fixed. Reads a run directory of suites/cascade_sr.yaml with its features/ folder.

    python benchmarks/cascade_fid_pairing.py runs/reports/cascade_sr   # writes the JSON below
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "cascade_fid_pairing.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: python benchmarks/cascade_fid_pairing.py runs/reports/cascade_sr")
    parser.add_argument("run_dir", type=Path, help="a run directory of suites/cascade_sr.yaml (with features/)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from musebench.cache.atomic import write_durable
    from musebench.report.cascade import by_role
    from musebench.report.data import load_runs
    from musebench.results.arrays import load_row_array
    from musebench.results.compare_setlevel import difference_statistic, has_features, paired_items
    from musebench.stats.multiple import holm
    from musebench.stats.paired import paired_set_bootstrap, two_sample_bootstrap

    (run,), _ = load_runs([args.run_dir])
    rows, start = [], time.perf_counter()
    for metric in dict.fromkeys(r.metric for r in run.rows if r.metric.startswith("fid/")):
        found = by_role(run, lambda row, m=metric: row.metric == m and has_features(row))
        a, b = found["bicubic"], found["stage"]
        x, y = load_row_array(run.run_dir, a, "features"), load_row_array(run.run_dir, b, "features")  # (N, D) each
        statistic = difference_statistic(a, run.run_dir)
        for rounds in (200, 2000):
            for name, test in (("paired", paired_set_bootstrap), ("independent", two_sample_bootstrap)):
                r = test(x, y, statistic, rounds=rounds, seed=0)
                rows.append({"metric": metric, "n": len(x), "bootstrap": name, "rounds": rounds, "paired_items": paired_items(a, b),
                             "bicubic": a.value, "stage": b.value, "diff": r.diff, "ci95": list(r.ci95),
                             "width": r.ci95[1] - r.ci95[0], "p": r.p_value, "method": r.method})
    for rounds in (200, 2000):  # Holm over the feature spaces, as the page does
        for name in ("paired", "independent"):
            family = [r for r in rows if r["rounds"] == rounds and r["bootstrap"] == name]
            for r, adjusted in zip(family, holm([r["p"] for r in family])):
                r["p_holm"] = adjusted
    result = {"command": f"python benchmarks/cascade_fid_pairing.py {args.run_dir}",
              "run": {k: run.run_json.get(k) for k in ("suite_name", "git_commit", "git_dirty", "started")},
              "declared_test": "paired, 200 rounds, seed 0 (suites/cascade_sr.yaml)", "rows": rows,
              "runtime_s": round(time.perf_counter() - start, 1)}
    write_durable(args.out, (json.dumps(result, indent=1) + "\n").encode())
    for r in rows:
        print(f"{r['metric']:<15} {r['bootstrap']:<11} {r['rounds']:>5} rounds  {r['diff']:+.6f} "
              f"[{r['ci95'][0]:+.6f}, {r['ci95'][1]:+.6f}]  p {r['p']:.4f}  Holm {r['p_holm']:.4f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
