"""Does `musebench gate` catch real regressions and ignore machine noise? Measured, not assumed.

Runs the quickstart suite (real `musebench run` subprocesses, real shipped muse-shapes model) at
one sweep point (steps=12) with everything else as CI runs it (300 prompts, the real renders,
oracle, FID, CLIP score, latency at 1 thread), and gates each run against a baseline recorded from the
unchanged model with the same suite seed, so the quality gate pairs per-item outcomes (exact
McNemar). For each of --seeds suite seeds (other prompts and image seeds each time):

  sensitivity (each must FAIL the gate):
    steps_2         sampler steps 12 -> 2                      (--set models.M.sweep.grid.steps=[2])
    guidance_off    classifier-free guidance off                (--set models.M.params.guidance=1; 1 = off, docs/suites.md)
    noised_weights  Gaussian noise on the transformer weights   (a noised copy, noise seed = suite seed)
    slowed          an extra transformer forward pass per step  (MaskedTransformer.forward runs twice),
                    at 1 and at 2 threads
  specificity (each must PASS): the unchanged model at 1 thread, at 1 thread while another process
    keeps one core busy with matrix multiplies, and at 2 threads (the baseline is recorded at 1).

Writes benchmarks/results/gate_sensitivity.json: per run the exit code of `musebench gate`, the
failed checks, the gated values against the baseline, catch rates per degradation and the
false-alarm rate, each with its exact (Clopper-Pearson) 95 % interval.

    python benchmarks/gate_sensitivity.py                      # 10 seeds, ~30 min on 2 cores
    python benchmarks/gate_sensitivity.py --seeds 2            # a quicker look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "gate_sensitivity.json"
SLOWED_FLAG = "--as-slowed-musebench"  # child mode: run `musebench ...` with the extra forward pass
# batch 1 (no 8-image throughput calls: they cost most of the run and are not gated); a 1024^2
# calibration matmul lasts about as long as one muse-shapes image on one core, so load on the
# machine slows both halves of the ratio alike.
LATENCY_OPTIONS = "{{warmup: 1, repeats: {repeats}, batch: 1, calibration: transformer}}"  # repeats: --latency-repeats

# One core busy with float32 matmuls, single-threaded: the kind of load a shared CI runner sees.
CPU_LOAD = (
    "import torch\n"
    "torch.set_num_threads(1)\n"
    "g = torch.Generator().manual_seed(0)\n"
    "a = torch.randn(384, 384, generator=g)\n"
    "while True:\n"
    "    a = torch.tanh(a @ a)\n"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    expect: str  # "fail" (a regression the gate must catch) or "pass" (noise it must ignore)
    overrides: tuple[str, ...] = ()  # --set items for `musebench run`
    slowed: bool = False  # run through the extra-forward-pass child mode
    cpu_load: bool = False  # a competing CPU-bound process during the run
    threads: int | None = None  # OMP_NUM_THREADS for this run (None: the experiment's --threads)


def slowed_main(argv: list[str]) -> int:
    """`musebench ARGV` with MaskedTransformer.forward doing one wasted forward pass per call.

    This is the regression under test ("an extra forward pass per step"): outputs are unchanged,
    only the time per sampling step grows, so only the latency gate can catch it.
    """
    from reference_model.transformer import MaskedTransformer

    original = MaskedTransformer.forward

    def forward_twice(self, ids, context):
        original(self, ids, context)  # the wasted pass
        return original(self, ids, context)

    MaskedTransformer.forward = forward_twice
    from musebench.cli.main import main

    return main(argv)


def latency_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("musebench.metrics.latency") is not None


def gated_suite(base: Path, out: Path, model: str, steps: int, quality_drop: float, latency_rel: float,
                latency_repeats: int = 10, expected_rate: float = 0.8) -> Path:
    """The experiment's suite: `base` (by include:) at one sweep point, plus latency and its gates.

    One sweep point (steps=12 by default) so that `steps 12 -> 2` is a change of that point;
    latency/ratio and its gate are added when the latency metric exists, with `latency_repeats` timed
    calls per measurement (the quickstart suite's own latency block is replaced by this one).
    """
    lines = [
        f"include: {base.resolve()}",
        "models:",
        f"  {model}:",
        f"    sweep: {{grid: {{steps: [{steps}]}}}}",
        "gates:",
        f"  - {{metric: oracle/all_correct, model: {model}, max_drop: {quality_drop}, expected_rate: {expected_rate}}}",
    ]
    if latency_available():
        lines.insert(lines.index("gates:"), f"metrics:\n  latency: {LATENCY_OPTIONS.format(repeats=latency_repeats)}")
        lines.append(f"  - {{metric: latency/ratio, model: {model}, max_rel_drop: {latency_rel}}}")
    out.write_text("\n".join(lines) + "\n")
    return out


def muse_model(suite: Path, overrides: tuple[str, ...]) -> tuple[str, str]:
    """(model name, checkpoint) of the suite's muse-adapter model, after the overrides."""
    from musebench.suite import load_suite

    loaded = load_suite(suite, overrides)
    for model in loaded.models:
        if model.adapter == "muse":
            return model.name, model.checkpoint or "muse-shapes"
    raise SystemExit(f"{suite}: no model with adapter 'muse'; this experiment needs one")


def noised_checkpoint(checkpoint: str, out_dir: Path, relative_std: float, seed: int) -> Path:
    """Copy a checkpoint and add N(0, (relative_std * std(w))^2) to every float transformer tensor."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from musebench.models.checkpoints import resolve_checkpoint

    source = resolve_checkpoint(checkpoint)
    target = out_dir / f"{source.name}-noised"
    shutil.copytree(source, target)
    generator = torch.Generator().manual_seed(seed)
    files = sorted(target.glob("*.safetensors"))
    by_name = [f for f in files if "transformer" in f.name]  # a file per component, or one file
    touched = 0
    for path in by_name or files:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata()
        for key, tensor in tensors.items():
            if not tensor.is_floating_point() or tensor.numel() < 2 or not (by_name or "transformer" in key):
                continue
            noise = torch.randn(tensor.shape, generator=generator)  # same shape as the weight
            tensors[key] = (tensor.float() + relative_std * tensor.float().std() * noise).to(tensor.dtype)
            touched += 1
        save_file(tensors, str(path), metadata=metadata)
    if touched == 0:
        raise SystemExit(f"{source}: found no transformer tensors to add noise to")
    return target


def musebench(argv: list[str], slowed: bool = False, log=None, threads: int | None = None) -> int:
    """`musebench ARGV` in a subprocess; `threads` sets OMP_NUM_THREADS (torch's intra-op threads)."""
    if slowed:
        command = [sys.executable, str(Path(__file__).resolve()), SLOWED_FLAG, *argv]
    else:
        command = [sys.executable, "-m", "musebench", *argv]
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    return subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT if log else None).returncode


@dataclass(frozen=True)
class Setup:
    suite: Path  # the experiment's suite (gated_suite)
    cache: Path  # a generation cache of its own, shared by all runs of the experiment
    overrides: tuple[str, ...]  # --set items for every run (e.g. another checkpoint)
    threads: int | None  # OMP_NUM_THREADS for the runs (None: torch's default)
    log: object  # open text file: every subprocess's output


def run_suite(setup: Setup, out: Path, scenario: Scenario) -> float:
    argv = ["run", str(setup.suite), "--out", str(out), "--cache", str(setup.cache), "--no-report",
            "--recompute"]  # every run re-times latency: the run memo would serve a pass scenario the baseline's rows
    for item in setup.overrides + scenario.overrides:
        argv += ["--set", item]
    load = subprocess.Popen([sys.executable, "-c", CPU_LOAD]) if scenario.cpu_load else None
    start = time.perf_counter()
    try:
        code = musebench(argv, slowed=scenario.slowed, log=setup.log, threads=scenario.threads or setup.threads)
    finally:
        if load is not None:
            load.terminate()
            load.wait()
    if code != 0:
        raise SystemExit(f"`musebench {' '.join(argv)}` exited {code}; see {setup.log.name}")
    return time.perf_counter() - start


def gate_outcome(run_dir: Path, baseline: Path, log) -> dict:
    """Exit code of the real CLI, plus the checks (values, deltas, verdicts) from the gate API."""
    from musebench.gate import evaluate, load_baseline, load_run

    code = musebench(["gate", str(run_dir), "--baseline", str(baseline)], log=log)
    report = evaluate(load_run(run_dir), load_baseline(baseline))
    checks = [
        {
            "metric": c.row.metric,
            "model": c.row.model,
            "params": c.row.params,
            "baseline": c.base.value if c.base else None,
            "current": c.row.value,
            "ci95": list(c.row.ci95) if c.row.ci95 else None,
            "verdict": c.verdict,
            "reasons": [o.reason for o in c.outcomes],
        }
        for c in report.checks
    ]
    return {"exit_code": code, "failed": [f"{c['metric']} ({c['model']})" for c in checks if c["verdict"] == "fail"], "checks": checks}


def scenarios(model: str, noised: Path, seed: int, latency: bool) -> list[Scenario]:
    """One seed's runs; every run carries --set seed=SEED, so it pairs with that seed's baseline."""
    at = (f"seed={seed}",)
    degraded = [
        Scenario(f"steps_2_s{seed}", "fail", at + (f"models.{model}.sweep.grid.steps=[2]",)),
        Scenario(f"guidance_off_s{seed}", "fail", at + (f"models.{model}.params.guidance=1",)),
        Scenario(f"noised_weights_s{seed}", "fail", at + (f"models.{model}.checkpoint={noised}",)),
    ]
    if latency:  # without latency/ratio in the run there is no latency gate to fail
        degraded += [Scenario(f"slowed_s{seed}", "fail", at, slowed=True, threads=1),
                     Scenario(f"slowed_2threads_s{seed}", "fail", at, slowed=True, threads=2)]
    unchanged = [Scenario(f"unchanged_s{seed}", "pass", at, threads=1),
                 Scenario(f"unchanged_loaded_s{seed}", "pass", at, cpu_load=True, threads=1),
                 Scenario(f"unchanged_2threads_s{seed}", "pass", at, threads=2)]
    return degraded + unchanged


def false_alarm_summary(results: list[dict]) -> dict:
    from scipy.stats import binomtest

    unchanged = [r for r in results if r["expect"] == "pass"]
    alarms = sum(r["exit_code"] != 0 for r in unchanged)
    summary = {"runs": len(unchanged), "false_alarms": alarms, "rate": alarms / max(1, len(unchanged))}
    if unchanged:
        summary["rate_upper95"] = binomtest(alarms, len(unchanged)).proportion_ci(method="exact").high
    for label in ("unchanged", "unchanged_loaded", "unchanged_2threads"):
        group = [r for r in unchanged if r["scenario"].rsplit("_s", 1)[0] == label]
        summary[f"passed_{label}"] = f"{sum(r['exit_code'] == 0 for r in group)}/{len(group)}"
    return summary


def catch_summary(results: list[dict]) -> dict:
    """Per degradation: runs that failed the gate (caught), out of all, with an exact 95 % interval."""
    from scipy.stats import binomtest

    out = {}
    for name in sorted({r["scenario"].rsplit("_s", 1)[0] for r in results if r["expect"] == "fail"}):
        group = [r for r in results if r["scenario"].rsplit("_s", 1)[0] == name]
        caught = sum(r["exit_code"] == 1 for r in group)
        ci = binomtest(caught, len(group)).proportion_ci(method="exact")
        out[name] = {"caught": f"{caught}/{len(group)}", "rate": caught / len(group), "ci95": [ci.low, ci.high],
                     "accuracy_drop": [round(_drop(r, "oracle/all_correct"), 4) for r in group],
                     "latency_change": [round(_drop(r, "latency/ratio"), 4) for r in group]}
    return out


def markdown_table(report: dict) -> str:
    """The docs/ci.md table, from a results file: every scenario, caught or passed, with its spread."""
    runs = report["runs"]
    lines = ["| scenario | expected | gate exit as expected | exact 95 % CI | accuracy drop, median [min, max] | latency ratio change, median [min, max] |",
             "|---|---|---:|---|---|---|"]
    for name in dict.fromkeys(r["scenario"].rsplit("_s", 1)[0] for r in runs):
        group = [r for r in runs if r["scenario"].rsplit("_s", 1)[0] == name]
        ok = sum(r["as_expected"] for r in group)
        from scipy.stats import binomtest

        ci = binomtest(ok, len(group)).proportion_ci(method="exact")
        cells = []
        for metric in ("oracle/all_correct", "latency/ratio"):
            values = sorted(_drop(r, metric) for r in group)
            scale, unit = (100, " %") if metric.startswith("latency/") else (1, "")
            fmt = (lambda v: f"{scale * v:+.0f}{unit}") if unit else (lambda v: f"{v:+.3f}")
            cells.append(f"{fmt(values[len(values) // 2])} [{fmt(values[0])}, {fmt(values[-1])}]")
        lines.append(f"| {name} | {group[0]['expect']} | {ok}/{len(group)} | [{ci.low:.2f}, {ci.high:.2f}] | {cells[0]} | {cells[1]} |")
    spec = report["specificity"]
    seconds = report.get("run_seconds", {})
    lines += ["", f"False alarms: {spec['false_alarms']} of {spec['runs']} unchanged runs (exact 95 % upper bound "
                  f"{100 * spec['rate_upper95']:.0f} %). One gated run took {seconds.get('median')} s (median), "
                  f"{seconds.get('max')} s at most, on 2 cores."]
    return "\n".join(lines)


def _drop(run: dict, metric: str) -> float:
    """current/baseline - 1 for latency, baseline - current for accuracy (nan when absent)."""
    for c in run["checks"]:
        if c["metric"] == metric and c["baseline"] is not None:
            return c["current"] / c["baseline"] - 1 if metric.startswith("latency/") else c["baseline"] - c["current"]
    return float("nan")


def write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "quickstart.yaml", help="base suite (included)")
    parser.add_argument("--steps", type=int, default=12, help="the one sweep point of the unchanged model")
    parser.add_argument("--max-drop", type=float, default=0.10, help="quality gate: oracle/all_correct max_drop")
    parser.add_argument("--expected-rate", type=float, default=0.8, help="quality gate: expected_rate (its power check)")
    parser.add_argument("--seeds", type=int, default=10, help="suite seeds; each gets a baseline and every scenario")
    parser.add_argument("--max-rel-drop", type=float, default=0.30, help="latency gate: latency/ratio max_rel_drop")
    parser.add_argument("--latency-repeats", type=int, default=8,
                        help="timed calls per latency measurement (the quickstart suite's 8)")
    parser.add_argument("--noise", type=float, default=0.5, help="weight noise std, relative to each tensor's std")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="suite override for every run, e.g. prompts.limit=64")
    parser.add_argument("--threads", type=int, default=1,
                        help="OMP_NUM_THREADS for the runs (default 1: stable timing on a shared CPU; 0: torch default)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep runs here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--note", default="", help="free text stored in the results (e.g. which checkpoint and why)")
    parser.add_argument("--table", action="store_true", help="print the docs/ci.md table of --out and exit")
    parser.add_argument("--summarize-only", action="store_true",
                        help="run nothing: rewrite --out's summary from the runs it holds (same other options)")
    args = parser.parse_args(argv)

    if args.table:
        print(markdown_table(json.loads(args.out.read_text())))
        return 0
    from tqdm import tqdm

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="gate_sensitivity_"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    overrides = tuple(args.overrides)
    model, _ = muse_model(args.suite, overrides)
    suite = gated_suite(args.suite, workdir / "suite.yaml", model, args.steps, args.max_drop, args.max_rel_drop,
                        args.latency_repeats, args.expected_rate)
    meta = {
        "note": args.note,
        "base_suite": str(args.suite),
        "experiment_suite": suite.read_text(),
        "overrides": list(overrides),
        "model": model,
        "gates": {"oracle/all_correct max_drop": args.max_drop,
                  "latency/ratio max_rel_drop": args.max_rel_drop if latency_available() else "no latency metric"},
        "weight_noise_relative_std": args.noise,
        "omp_num_threads": args.threads or "torch default",
        "seeds_planned": args.seeds,
        "latency_repeats": args.latency_repeats,
    }
    if args.summarize_only:  # e.g. after stopping a long experiment: summarise the runs written so far
        results = json.loads(args.out.read_text())["runs"]
        write_atomic(args.out, summarize(meta, results, partial=True))
        return 0
    _, checkpoint = muse_model(suite, overrides)
    setup = Setup(suite=suite, cache=workdir / "cache", overrides=overrides, threads=args.threads or None,
                  log=(workdir / "log.txt").open("a"))
    results = []
    bar = tqdm(total=args.seeds * (8 if latency_available() else 6), desc="gate runs", unit="run")
    for seed in range(args.seeds):
        seed_dir = workdir / f"seed{seed}"
        seed_dir.mkdir(exist_ok=True)
        noised = noised_checkpoint(checkpoint, seed_dir, args.noise, seed=seed)
        baseline = seed_dir / "baseline.jsonl"
        run_suite(setup, seed_dir / "baseline_run", Scenario("baseline", "pass", (f"seed={seed}",), threads=1))
        if musebench(["gate", str(seed_dir / "baseline_run"), "--write-baseline", str(baseline)], log=setup.log) != 0:
            raise SystemExit(f"could not write the baseline; see {setup.log.name}")
        for scenario in scenarios(model, noised, seed, latency_available()):
            run_dir = seed_dir / scenario.name
            seconds = run_suite(setup, run_dir, scenario)
            outcome = gate_outcome(run_dir, baseline, setup.log)
            expected = 1 if scenario.expect == "fail" else 0
            results.append({"scenario": scenario.name, "seed": seed, "expect": scenario.expect,
                            "overrides": list(scenario.overrides), "slowed": scenario.slowed, "cpu_load": scenario.cpu_load,
                            "threads": scenario.threads, "run_seconds": round(seconds, 1),
                            "loadavg_1min_after": round(os.getloadavg()[0], 2),
                            "as_expected": outcome["exit_code"] == expected, **outcome})
            write_atomic(args.out, summarize(meta, results, partial=True))
            bar.update()
        shutil.rmtree(noised)

    report = summarize(meta, results, partial=False)
    write_atomic(args.out, report)
    print(json.dumps({"sensitivity": report["sensitivity"], "specificity": report["specificity"]}, indent=2))
    print(f"wrote {args.out}; runs kept in {workdir}")
    return 0


def summarize(meta: dict, results: list[dict], partial: bool) -> dict:
    """The results file: settings, per-scenario verdicts, false-alarm rate, and every run."""
    degraded = [r for r in results if r["expect"] == "fail"]
    return {
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "partial": partial,  # true: fewer runs than planned (stopped early or still running)
        **meta,
        "machine": {"cpu_count": os.cpu_count(), "platform": sys.platform, "loadavg_at_write": os.getloadavg()},
        "sensitivity": catch_summary(results),
        "run_seconds": {"median": sorted(r["run_seconds"] for r in results)[len(results) // 2] if results else None,
                        "max": max((r["run_seconds"] for r in results), default=None)},
        "specificity": false_alarm_summary(results),
        "runs": results,
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == SLOWED_FLAG:
        sys.exit(slowed_main(sys.argv[2:]))
    sys.exit(main())
