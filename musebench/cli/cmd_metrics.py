"""`musebench metrics`: FID / KID / PRDC / CMMD / Vendi / CLIP score / reference statistics on image folders,
outside a suite."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DESCRIPTION = (
    "Compute one metric on image folders with an explicit protocol: the feature extractor "
    "(inception | clip | probe | dinov2 | random-vgg) and the preprocessing mode (clean | tf1 | antialias) are named, "
    "statistics are float64, and the result (JSON on stdout) records both. An input is a folder of "
    "images (one size), a .npy of features (N, D), or for FID an .npz of statistics (mu, sigma) as "
    "written by `musebench metrics stats`, pytorch-fid or clean-fid. fid, kid, prdc and cmmd compare "
    "two inputs (generated, reference); vendi and clip-score read one."
)

EPILOG = """examples:
  musebench shapes render --split test --n 1000 --out /tmp/real
  musebench shapes render --split val --n 1000 --out /tmp/real2
  musebench metrics fid /tmp/real2 /tmp/real --extractor probe --mode clean
  musebench metrics stats /tmp/real --out /tmp/real_probe.npz --extractor probe
  musebench metrics fid /tmp/gen /tmp/real_probe.npz --extractor probe --fid-inf
  musebench metrics kid /tmp/gen /tmp/real --extractor probe --subsets 50 --subset-size 500
  musebench metrics prdc /tmp/gen /tmp/real --extractor probe --k 5     # precision, recall, density, coverage
  musebench metrics cmmd /tmp/gen /tmp/real --extractor probe           # CLIP embeddings only: clip | probe
  musebench metrics vendi /tmp/gen --extractor dinov2 --weights ~/weights/dinov2-large
  musebench metrics fid /tmp/gen /tmp/real --extractor inception --mode tf1 \\
      --weights ~/weights/weights-inception-2015-12-05-6726825d.pth
  musebench metrics fid /tmp/gen /tmp/real --extractor dinov2 --weights ~/weights/dinov2-large   # save_pretrained folder
  musebench metrics clip-score /tmp/gen --model probe --variant hessel    # needs /tmp/gen/prompts.jsonl
  musebench metrics fid /tmp/gen64 /tmp/real64 --extractor random-vgg     # low-level detail (blur, edges); no weights

FID/KID/PRDC/CMMD: first input = generated, second = reference. The inception weights are looked up at
--weights, $MUSEBENCH_WEIGHTS, then the torch hub cache; never downloaded.
Exit codes: 0 ok, 2 bad input (one line on stderr).
"""

METRICS = ("fid", "kid", "prdc", "cmmd", "vendi", "clip-score", "stats")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("metric", choices=METRICS, help="what to compute")
    parser.add_argument("inputs", nargs="+", metavar="PATH", help="folder | features .npy | stats .npz (see above)")
    parser.add_argument("--extractor", default="probe", help="inception | clip | probe | dinov2 | random-vgg (default probe)")
    parser.add_argument("--mode", default="clean", help="preprocessing: clean | tf1 | antialias (default clean)")
    parser.add_argument("--weights", default=None, help="inception .pth, open_clip pretrained file, probe checkpoint, or dinov2 save_pretrained folder")
    parser.add_argument("--model", default=None, help="clip extractor: open_clip model name (default ViT-B-32); clip-score: probe or a name")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--bootstrap", type=int, default=200,
                        help="bootstrap rounds of the fid, prdc density, cmmd and vendi intervals (0 = no interval, else >= 2)")
    parser.add_argument("--fid-inf", action="store_true", help="also extrapolate FID-infinity (needs N >= 5 x feature dim)")
    parser.add_argument("--allow-small-n", action="store_true", help="FID with fewer images than the feature dimension (stamped)")
    parser.add_argument("--subsets", type=int, default=100, help="KID subsets (>= 2)")
    parser.add_argument("--subset-size", type=int, default=1000, help="KID subset size (>= the smaller set n: n // 2)")
    parser.add_argument("--k", type=int, default=5, help="prdc: the k-th nearest neighbour defining each radius (default 5, Naeem et al.'s)")
    parser.add_argument("--variant", default="torchmetrics", help="clip-score: torchmetrics | hessel | cosine")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstraps / KID subsets")
    parser.add_argument("--cache", default=None, metavar="DIR", help="feature cache (default: $MUSEBENCH_CACHE or ~/.cache/musebench)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write cached features")
    parser.add_argument("--out", type=Path, default=None, help="stats: the .npz to write; others: also write the JSON here")


CLI_FIXES = ("pass --allow-small-n", "drop --fid-inf")  # how each FID refusal is lifted here (FidMetric.fixes)


def _metric(args):
    """The suite's metric object built from the flags (each module's Options), so every metric here runs the
    suites' protocol and refuses what they refuse (cmmd: non-CLIP extractors); `stats` uses FID's (its extractor
    and features). Torch-free; builds no extractor yet."""
    from musebench.metrics import cmmd, fid, kid, prdc, vendi

    common = {"extractor": args.extractor, "mode": args.mode, "extractor_weights": args.weights,
              "extractor_model": args.model or "ViT-B-32", "batch_size": args.batch_size}
    if args.metric == "kid":
        return kid.build(kid.Options(**common, subsets=args.subsets, subset_size=args.subset_size, keep_features=False))
    if args.metric == "prdc":
        return prdc.build(prdc.Options(**common, k=args.k, bootstrap=args.bootstrap))
    if args.metric == "cmmd":
        return cmmd.build(cmmd.Options(**common, bootstrap=args.bootstrap))
    if args.metric == "vendi":
        return vendi.build(vendi.Options(**common, bootstrap=args.bootstrap))
    return fid.build(fid.Options(**common, bootstrap=args.bootstrap, fid_inf=args.fid_inf,
                                 allow_small_n=args.allow_small_n, keep_features=False), CLI_FIXES)


def _features(path: Path, metric, args, cache_dir):
    """A folder's features by the metric's extractor, or a .npy of features (N, D) checked against it."""
    import numpy as np

    from musebench.errors import MusebenchError
    from musebench.metrics.image_folder import to_tensor

    if path.suffix == ".npy":
        try:
            feats = np.load(path)
        except (OSError, ValueError) as exc:
            raise MusebenchError(f"{path}: not a readable .npy ({exc})") from None
        dim, name = metric.extractor().dim, metric.options.extractor
        if feats.ndim != 2 or feats.shape[1] != dim:
            raise MusebenchError(f"{path}: features of shape {feats.shape}, but extractor '{name}' gives (N, {dim}); recompute them with this extractor")
        return np.asarray(feats, np.float64)
    if not path.is_dir():
        raise MusebenchError(f"{path}: not a folder of images, a .npy of features or an .npz of statistics")
    return metric.features(to_tensor(args.images[str(path)]), cache_dir)


def _reference(path: Path, metric, args, cache_dir, features_only: bool = False):
    """The reference (metrics/reference.py) of a folder, a .npy of features or (unless features_only, as
    for KID) an .npz of statistics."""
    from musebench.metrics.reference import Reference, features_reference
    from musebench.metrics.stats import load_stats

    if path.suffix == ".npz" and not features_only:
        return Reference(f"npz:{path}", load_stats(path, metric.extractor().dim), None)
    feats = _features(path, metric, args, cache_dir)
    return features_reference(feats, f"{'npy' if path.suffix == '.npy' else 'folder'}:{path} n={len(feats)}")


def _stats_pair(gen_path: Path, ref_path: Path):
    """Two .npz of statistics, read without any extractor (nor torch): their dimensions must agree."""
    from musebench.errors import MusebenchError
    from musebench.metrics.reference import Reference
    from musebench.metrics.stats import load_stats

    gen, ref = load_stats(gen_path), load_stats(ref_path)
    if gen.dim != ref.dim:
        raise MusebenchError(f"{ref_path}: {ref.dim}-d statistics but {gen_path} holds {gen.dim}-d; "
                             "compare statistics computed with one extractor")
    return gen, Reference(f"npz:{ref_path}", ref, None)


def _only_stats(args) -> bool:
    """`metrics fid A.npz B.npz`: FID of two statistics files, no extractor needed."""
    return args.metric == "fid" and len(args.inputs) == 2 and all(Path(p).suffix == ".npz" for p in args.inputs)


def _need(args, count: int) -> None:
    from musebench.errors import MusebenchError

    if len(args.inputs) != count:
        raise MusebenchError(f"metrics {args.metric}: needs {count} input(s), got {len(args.inputs)}: {' '.join(args.inputs)}")


def _check_counts(args) -> None:
    """Every count flag, before anything is read or written: one line naming the flag and the fix."""
    from musebench.errors import MusebenchError
    from musebench.metrics.intervals import check_rounds
    from musebench.metrics.kid import check_counts
    from musebench.metrics.prdc import check_k

    if args.batch_size < 1:
        raise MusebenchError(f"--batch-size must be >= 1, got {args.batch_size}")
    check_rounds(args.bootstrap, "--bootstrap")
    check_counts(args.subsets, args.subset_size, ("--subsets", "--subset-size"))
    check_k(args.k, "--k")


def _fid(args, metric, cache_dir):
    _need(args, 2)
    gen_path, ref_path = Path(args.inputs[0]), Path(args.inputs[1])
    if _only_stats(args):
        return metric.from_stats(*_stats_pair(gen_path, ref_path), args.seed)
    if gen_path.suffix == ".npz":
        from musebench.metrics.stats import load_stats

        gen = load_stats(gen_path, metric.extractor().dim)
        return metric.from_stats(gen, _reference(ref_path, metric, args, cache_dir), args.seed)
    gen = _features(gen_path, metric, args, cache_dir)
    return metric.from_features(gen, _reference(ref_path, metric, args, cache_dir), args.seed)


def _feature_pair(args, metric, cache_dir):
    """(generated features (N, D), the reference with its features (M, D)): KID, PRDC and CMMD need both sets."""
    _need(args, 2)
    gen = _features(Path(args.inputs[0]), metric, args, cache_dir)
    return gen, _reference(Path(args.inputs[1]), metric, args, cache_dir, features_only=True)


def _pair(args, metric, cache_dir):
    """KID's and CMMD's rows: from_features(generated, reference, seed)."""
    return metric.from_features(*_feature_pair(args, metric, cache_dir), args.seed)


def _prdc(args, metric, cache_dir):
    """Per-item outcomes are keyed by position (no prompts here); the JSON carries only the four means."""
    gen, ref = _feature_pair(args, metric, cache_dir)
    return metric.from_features(gen, ref, args.seed, tuple(str(i) for i in range(len(gen))))


def _vendi(args, metric, cache_dir):
    _need(args, 1)
    return metric.from_features(_features(Path(args.inputs[0]), metric, args, cache_dir), args.seed)


COMPUTE = {"fid": _fid, "kid": _pair, "prdc": _prdc, "cmmd": _pair, "vendi": _vendi}


def _result(rows) -> dict:
    """The JSON of a metric's rows: one row's value, ci95 and extra; several (prdc's four) as `values` and
    `ci95` by row name, and each extra key once where the rows agree (n, extractor, mode), else by row name."""
    if len(rows) == 1:
        return {"value": rows[0].value, "ci95": rows[0].ci95, **rows[0].extra}
    names = [row.metric.rsplit("/", 1)[1] for row in rows]  # "prdc/probe/recall" -> "recall"
    result = {"values": {name: row.value for name, row in zip(names, rows)},
              "ci95": {name: row.ci95 for name, row in zip(names, rows)}}
    for key in rows[0].extra:
        values = [row.extra[key] for row in rows]
        result[key] = values[0] if all(v == values[0] for v in values) else dict(zip(names, values))
    return result


def _stats(args, metric, cache_dir) -> dict:
    """`metrics stats`: the .npz with the square-root factor, so every later FID against it skips one
    eigendecomposition (stats.py)."""
    from musebench.errors import MusebenchError
    from musebench.metrics.stats import save_stats, stats_from_features

    _need(args, 1)
    if args.out is None or args.out.suffix != ".npz":
        raise MusebenchError(f"metrics stats: --out must name the .npz to write, got {args.out}")
    stats = stats_from_features(_features(Path(args.inputs[0]), metric, args, cache_dir), args.inputs[0])
    save_stats(args.out, stats.with_factor())
    return {"out": str(args.out), "n": stats.n, "dim": stats.dim, **metric.described()}


def _clip_score(args, cache_dir: Path | None) -> dict:
    """CLIPScore of a folder's images against its prompts.jsonl; cached cosines go to `cache_dir`
    (the cache's features/, as for fid/kid), never into the user's folder."""
    from musebench.errors import MusebenchError
    from musebench.metrics.base import EvalContext
    from musebench.metrics.clip_score import Options, build
    from musebench.metrics.image_folder import load_image, stack_same_size
    from musebench.prompts.base import PromptRecord

    _need(args, 1)
    folder = Path(args.inputs[0])
    prompts_file = folder / "prompts.jsonl"
    if not prompts_file.is_file():
        raise MusebenchError(f"{prompts_file}: not found; clip-score needs the folder's prompts.jsonl (file, prompt per line)")
    records, paths = [], []
    for lineno, line in enumerate(prompts_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            records.append(PromptRecord(prompt=str(entry["prompt"]), source=f"file:{prompts_file}", index=lineno - 1))
            paths.append(folder / str(entry["file"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise MusebenchError(f"{prompts_file}:{lineno}: needs a JSON object with 'file' and 'prompt'") from None
    if not records:
        raise MusebenchError(f"{prompts_file}: no prompts")
    images = stack_same_size([load_image(p) for p in paths], paths)
    metric = build(Options(model=args.model or "probe", pretrained=args.weights, variant=args.variant, mode=args.mode,
                           batch_size=args.batch_size, bootstrap=200))
    row = metric.compute(EvalContext(images=images, prompts=tuple(records), feature_cache_dir=cache_dir, seed=args.seed))[0]
    return {"value": row.value, "ci95": row.ci95, "n": row.n, **row.extra}


def _read_folders(args) -> dict:
    """Every image-folder input read and checked (bombs, truncated, odd modes) before torch is imported."""
    from musebench.metrics.image_folder import read_folder

    return {str(Path(p)): read_folder(Path(p)) for p in args.inputs if Path(p).is_dir()}


def run(args: argparse.Namespace) -> int:
    from musebench.cache.atomic import write_atomic_text
    from musebench.cache.location import resolve_cache_dir
    from musebench.metrics.extractor_weights import ExtractorSpec, check_weights

    if args.metric != "clip-score":
        args.images = _read_folders(args)  # uint8 (N, H, W, 3) per folder; _features makes the tensor
    _check_counts(args)
    cache_dir = None if args.no_cache else resolve_cache_dir(args.cache) / "features"
    if args.metric == "clip-score":
        result = _clip_score(args, cache_dir)
    else:
        metric = _metric(args)  # the extractor's name and the mode checked, nothing built
        if not _only_stats(args):
            check_weights(ExtractorSpec(args.extractor, args.weights, args.model or "ViT-B-32"))  # before torch (issue 23)
        if args.metric == "stats":
            result = _stats(args, metric, cache_dir)
        else:
            result = _result(COMPUTE[args.metric](args, metric, cache_dir))
    result = {"metric": args.metric, **result}
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.out is not None and args.metric != "stats":
        write_atomic_text(args.out, text + "\n")
    sys.stdout.flush()
    return 0
