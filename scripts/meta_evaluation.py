"""Score the metrics against the oracle on a model family (issue 27): reports/meta_evaluation/.

    python scripts/meta_evaluation.py [--run runs/meta_evaluation/run ...] [--out reports/meta_evaluation]
                                      [--draws 100:200,300:100,1000:40,3000:15,10000:5] [--seed 0] [--workers 2]
                                      [--damage-n 500] [--damage-draws 10]

Reads a run of suites/meta_evaluation.yaml, or several runs of it over parts of the family (--run
repeated: the metrics of each part computed in parallel), result files only (musebench/report/
meta_evaluation.py says how), draws N images per member for every N given (the same prompts for every member in a draw),
computes every metric on each, and writes to --out:
- meta_evaluation.json: the protocol (command, run, draws, seed), the family with its oracle accuracy, the
  resolved pairs, per (N, metric) tau and pairwise accuracy, the recommendation per N, and every draw's
  tau and pairwise accuracy;
- family.csv (every member's metric values on the whole pool), agreement.csv (per N and metric);
- agreement.png/.pdf (tau and pairwise accuracy against N, 6.9 in wide) and index.md, the page;
- with --damage-draws > 0, damage.csv: how each metric moves under fidelity-only and diversity-only damage
  to the real renders (scripts/meta_damage.py), a section of the page.
Draws run in --workers processes; one draw is a pure function of (run, N, draw index, seed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from musebench.errors import MusebenchError  # noqa: E402
from musebench.report import meta_evaluation as meta  # noqa: E402
from musebench.report.meta_evaluation_page import write_page  # noqa: E402
from scripts import meta_damage  # noqa: E402

_FAMILY = None
_PAIRS = None


def _init(run_dirs: list[str], family: meta.Family | None = None) -> None:
    """A worker's (or the main process's) family and resolved pairs; `family` when already loaded."""
    global _FAMILY, _PAIRS
    _FAMILY = family if family is not None else meta.load_family([Path(d) for d in run_dirs])
    _PAIRS = meta.resolved_pairs(_FAMILY.oracle)


def _one(n: int, draw: int, seed: int) -> meta.DrawResult:
    return meta.run_draw(_FAMILY, _PAIRS, n, draw, seed)


def parse_draws(text: str) -> dict[int, int]:
    try:
        pairs = [part.split(":") for part in text.split(",")]
        draws = {int(n): int(k) for n, k in pairs}
    except ValueError:
        raise MusebenchError(f"--draws {text!r}: expected N:DRAWS,N:DRAWS,... e.g. 100:200,1000:40") from None
    if not draws or any(n < 10 or k < 2 for n, k in draws.items()):
        raise MusebenchError(f"--draws {text!r}: every N needs >= 10 images and >= 2 draws")
    return draws


def compute(run_dirs: list[Path], family: meta.Family, draws: dict[int, int], seed: int,
            workers: int) -> tuple[list, list[meta.DrawResult]]:
    from tqdm import tqdm

    _init([str(d) for d in run_dirs], family)
    pairs = _PAIRS
    too_big = [n for n in draws if n > family.prompts]
    if too_big:
        raise MusebenchError(f"--draws: N = {too_big} exceeds the run's {family.prompts} prompts; lower it or rerun the suite")
    tasks = [(n, b) for n, k in draws.items() for b in range(k)]
    tasks += [(n, -1) for n in draws if n == family.prompts]  # the whole pool, once
    results = []
    with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=([str(d) for d in run_dirs],)) as pool:
        futures = [pool.submit(_one, n, b, seed) for n, b in sorted(tasks, key=lambda t: -t[0])]
        for future in tqdm(as_completed(futures), total=len(futures), desc="meta-evaluation draws", unit="draw"):
            results.append(future.result())
    results.sort(key=lambda r: (r.n, r.draw))
    return pairs, results


def damage_study(family, records: list | None, n: int, draws: int, seed: int) -> list[dict] | None:
    from tqdm import tqdm

    if draws <= 0:
        return None
    values = [meta_damage.damage_draw(family, records, n, d, seed) for d in tqdm(range(draws), desc="damage draws", unit="draw")]
    return meta_damage.damage_rows(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--run", type=Path, action="append", help="a run directory (repeat for a family split over runs; "
                        "default runs/meta_evaluation/run)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "meta_evaluation")
    parser.add_argument("--draws", default=",".join(f"{n}:{k}" for n, k in meta.DEFAULT_DRAWS.items()))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--damage-n", type=int, default=500, help="images per damaged set (one category: at most a sixth of the prompts)")
    parser.add_argument("--damage-draws", type=int, default=10, help="draws of the damage study; 0 = none")
    args = parser.parse_args(argv)
    runs = args.run or [Path("runs/meta_evaluation/run")]
    try:
        draws = parse_draws(args.draws)
        family, records = meta.load_family(runs), None
        if args.damage_draws > 0:  # every check before the first draw
            records = meta_damage.pool_records(runs[0], family.prompts)
            meta_damage.check_damage(family, records, args.damage_n)
        pairs, results = compute(runs, family, draws, args.seed, args.workers)
        damage = damage_study(family, records, args.damage_n, args.damage_draws, args.seed)
        command = "python scripts/meta_evaluation.py " + " ".join(argv if argv is not None else sys.argv[1:])
        provenance = [{k: json.loads((d / "run.json").read_text()).get(k) for k in ("git_commit", "git_dirty", "started")}
                      for d in runs]
        write_page(args.out, family, pairs, results, {"command": command.strip(), "run": ", ".join(map(str, runs)),
                                                      "draws": draws, "seed": args.seed, "runs_made_at": provenance,
                                                      "damage": {"n": args.damage_n, "draws": args.damage_draws}}, damage)
    except MusebenchError as e:
        print(f"meta_evaluation: {e}", file=sys.stderr)
        return 2
    print(args.out / "index.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
