"""The merged YAML tree -> a validated `Suite`. Every error names file:line and the fix.

Checks here need no weights: keys and types, adapter and metric names, metric options (against
each metric module's `Options`), sweeps, gate targets (a gate's metric must be a row the suite's
metrics produce: a metric module may declare its rows with `outputs(options)`, fnmatch patterns;
the oracle does, so `oracle/bogus` is refused here). Sampler parameters are checked against the
adapter's declaration (models/declared.py) by the run's torch-free preflight (runner/early_models.py).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import itertools
import re
from pathlib import Path
from musebench.models.registry import ADAPTERS
from musebench.metrics.registry import METRICS
from musebench.suite.schema import (
    SUITE_VERSION, GateSpec, MetricSpec, ModelSpec, PromptsSpec, ReportSpec, Suite, SweepSpec,
)
from musebench.suite.source import Loc, LocDict, LocList, fail
from musebench.suite.typecheck import NOT_FINITE, TypeMismatch, brief, build_dataclass, convert, did_you_mean, plain

TOP_KEYS = ("version", "name", "description", "seed", "batch_size", "device", "models", "prompts",
            "metrics", "gates", "report", "include")
MODEL_KEYS = ("adapter", "checkpoint", "params", "sweep", "batch_size")
SWEEP_KEYS = ("grid", "zip")
_SCALAR = int | float | str | bool | None


def _check_keys(data: LocDict, allowed, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise fail(data.where(key), f"{where}unknown key '{key}'{did_you_mean(key, allowed)}; known: {', '.join(k for k in allowed if k != 'include')}")


def _typed(data: LocDict, key: str, annotation, where: str, default=None):
    if key not in data:
        return default
    try:
        return convert(data[key], annotation)
    except TypeMismatch as exc:
        raise fail(data.where(key), f"{where}{key}: {exc}") from None


def _mapping(data: LocDict, key: str, where: str) -> LocDict:
    value = data.get(key)
    if value is None:
        return LocDict(data.where(key))
    if not isinstance(value, LocDict):
        raise fail(data.where(key), f"{where}{key}: expected a mapping, got {brief(value)}")
    return value


def _params(data: LocDict, where: str) -> dict:
    out = {}
    for name, value in data.items():
        try:
            out[name] = convert(value, _SCALAR)
        except TypeMismatch as exc:
            raise fail(data.where(name), f"{where}{name}: {_not_single(exc, value)}") from None
    return out


def _sweep_value(seq: LocList, i: int, where: str):
    try:
        return convert(seq[i], _SCALAR)
    except TypeMismatch as exc:
        raise fail(seq.where(i), f"{where}[{i}]: {_not_single(exc, seq[i], 'a sweep value')}") from None


def _not_single(exc: TypeMismatch, value, what: str = "a sampler parameter") -> str:
    """Why a parameter value was refused: not finite (.nan, .inf), else not a single value."""
    return str(exc) if str(exc).startswith(NOT_FINITE) else f"{what} must be a single value, got {brief(value)}"


def _sweep(data: LocDict, fixed: dict, where: str) -> SweepSpec:
    _check_keys(data, SWEEP_KEYS, where)
    parts = {}
    for kind in SWEEP_KEYS:
        section = _mapping(data, kind, where)
        values = {}
        for name, seq in section.items():
            loc = section.where(name)
            if not isinstance(seq, LocList) or not seq:
                raise fail(loc, f"{where}{kind}.{name}: expected a non-empty list of values, e.g. [4, 8, 12]")
            values[name] = tuple(_sweep_value(seq, i, f"{where}{kind}.{name}") for i in range(len(seq)))
            if name in fixed:
                raise fail(loc, f"{where}{kind}.{name}: also fixed in params; remove it from one of them")
        parts[kind] = values
    lengths = {len(v) for v in parts["zip"].values()}
    if len(lengths) > 1:
        raise fail(data.where("zip"), f"{where}zip: lists must have equal lengths, got {sorted(lengths)}")
    both = set(parts["grid"]) & set(parts["zip"])
    if both:
        raise fail(data.where("zip"), f"{where}zip: '{sorted(both)[0]}' is also in grid; sweep it in one of them")
    return SweepSpec(grid=parts["grid"], zip=parts["zip"])


def _model(name: str, data: object, loc: Loc) -> ModelSpec:
    where = f"models.{name}."
    if "." in name:  # --set and gates address a model by a dotted path (models.NAME.params...)
        raise fail(loc, f"models.{name}: a model name cannot contain '.' (--set models.NAME... could not reach it); "
                        f"rename it, e.g. {name.replace('.', '_')}")
    if not isinstance(data, LocDict):
        raise fail(loc, f"models.{name}: expected a mapping with adapter:, checkpoint:, params:, sweep:")
    _check_keys(data, MODEL_KEYS, where)
    adapter = _typed(data, "adapter", str, where)
    if adapter is None:
        raise fail(data.loc, f"models.{name}: missing 'adapter:' (one of {', '.join(ADAPTERS)})")
    if adapter not in ADAPTERS:
        raise fail(data.where("adapter"), f"{where}adapter: unknown adapter '{adapter}'{did_you_mean(adapter, ADAPTERS)}; known: {', '.join(ADAPTERS)}")
    batch_size = _typed(data, "batch_size", int | None, where)
    if batch_size is not None and batch_size < 1:
        raise fail(data.where("batch_size"), f"{where}batch_size: must be >= 1, got {batch_size}")
    params = _mapping(data, "params", where)
    fixed = _params(params, f"{where}params.")
    sweep_data = _mapping(data, "sweep", where)
    sweep = _sweep(sweep_data, fixed, f"{where}sweep.")
    param_locs = {k: str(params.where(k)) for k in params}
    for kind in SWEEP_KEYS:
        section = sweep_data.get(kind)
        if isinstance(section, LocDict):
            param_locs.update({k: str(section.where(k)) for k in section})
    return ModelSpec(
        name=name, adapter=adapter, checkpoint=_typed(data, "checkpoint", str | None, where),
        params=fixed, sweep=sweep, batch_size=batch_size, loc=str(loc), param_locs=param_locs,
    )


def _metric(key: str, data: object, loc: Loc) -> MetricSpec:
    where = f"metrics.{key}"
    if data is None:
        data = LocDict(loc)
    if not isinstance(data, LocDict):
        raise fail(loc, f"{where}: expected a mapping of options (or {{}} for the defaults), got {brief(data)}")
    options = LocDict(data.loc)
    for k, v in data.items():
        if k != "metric":
            options[k], options.locs[k] = v, data.where(k)
    name = _typed(data, "metric", str, f"{where}.", default=key)
    if name not in METRICS:
        raise fail(data.where("metric") if "metric" in data else loc,
                   f"{where}: unknown metric '{name}'{did_you_mean(name, METRICS)}; known: {', '.join(METRICS)}")
    try:
        module = importlib.import_module(METRICS[name])
    except ModuleNotFoundError as exc:
        if exc.name != METRICS[name]:  # a dependency of the metric is missing
            raise fail(loc, f"{where}: metric '{name}' needs the Python module '{exc.name}', which is not installed; install it or remove the metric") from None
        raise fail(loc, f"{where}: metric '{name}' is registered but {METRICS[name]} is not installed yet; remove it from the suite") from None
    built = build_dataclass(module.Options, options, data.loc, where)
    return MetricSpec(key=key, metric=name, options=built, raw=plain(options), loc=str(loc))


def _named_section(tree: LocDict, key: str, build) -> tuple:
    section = _mapping(tree, key, "")
    return tuple(build(name, section[name], section.where(name)) for name in section)


def _gates(tree: LocDict, models: tuple[ModelSpec, ...], metrics: tuple[MetricSpec, ...]) -> tuple[GateSpec, ...]:
    items = tree.get("gates") or LocList(tree.where("gates"))
    if not isinstance(items, LocList):
        raise fail(tree.where("gates"), "gates: expected a list of gates (- metric: ..., min: ...)")
    gates = []
    metric_names = {m.metric for m in metrics}
    for i, item in enumerate(items):
        loc = items.where(i)
        gate = build_dataclass(GateSpec, item, loc, f"gates[{i}]")
        if gate.model is not None and gate.model not in {m.name for m in models}:
            raise fail(loc, f"gates[{i}].model: no model '{gate.model}' in this suite{did_you_mean(gate.model, [m.name for m in models])}")
        family = gate.metric.split("/")[0]
        if family not in metric_names:
            raise fail(loc, f"gates[{i}].metric: '{gate.metric}' is not computed by this suite's metrics ({', '.join(sorted(metric_names)) or 'none'}){did_you_mean(family, metric_names)}")
        _check_gate_row(gate.metric, [m for m in metrics if m.metric == family], loc, i)
        gates.append(gate)
    return tuple(gates)


def _check_gate_row(name: str, family: list[MetricSpec], loc: Loc, i: int) -> None:
    """The gated row is one the family's metrics declare (when every one of them declares its rows)."""
    patterns = []
    for spec in family:
        declare = getattr(importlib.import_module(METRICS[spec.metric]), "outputs", None)
        if declare is None:
            return  # this metric does not say what it produces: only its family is checked
        patterns += declare(spec.options)
    if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
        raise fail(loc, f"gates[{i}].metric: '{name}' is not a row of this suite's {family[0].metric} metric"
                        f"{did_you_mean(name, patterns)}; it produces {', '.join(patterns)}")


def _relative_paths(prompts: PromptsSpec, data: LocDict) -> PromptsSpec:
    """A relative `path:` / `images_dir:` is relative to the file that wrote it (--set: the working directory)."""
    changes = {}
    for key in ("path", "images_dir"):
        value = getattr(prompts, key)
        loc = data.where(key)
        if value and not Path(value).is_absolute() and not loc.label:
            changes[key] = str(Path(loc.file).parent / value)
    return dataclasses.replace(prompts, **changes) if changes else prompts


def _seed(tree: LocDict) -> int:
    seed = _typed(tree, "seed", int, "", default=0)
    if seed < 0:
        raise fail(tree.where("seed"), f"seed: must be >= 0, got {seed}")
    return seed


def _check_prompt_counts(prompts: PromptsSpec, data: LocDict) -> None:
    """Bounds the loaders would hit only after minutes of work: said here, at the key's line."""
    from musebench.prompts.shapes_source import MAX_SHAPES_PROMPTS

    if prompts.source == "shapes" and prompts.limit > MAX_SHAPES_PROMPTS:
        raise fail(data.where("limit"), f"prompts.limit: source shapes samples at most {MAX_SHAPES_PROMPTS} prompts "
                                        f"(MAX_SHAPES_PROMPTS), got {prompts.limit}")
    if prompts.seed is not None and prompts.seed < 0:
        raise fail(data.where("seed"), f"prompts.seed: must be >= 0, got {prompts.seed}")


def parse_suite(tree: LocDict, path: str) -> Suite:
    _check_keys(tree, TOP_KEYS, "")
    version = _typed(tree, "version", int, "")
    if version is None:
        raise fail(Loc(tree.loc.file, 1), f"missing 'version: {SUITE_VERSION}' at the top of the suite")
    if version != SUITE_VERSION:
        raise fail(tree.where("version"), f"version: this musebench reads suite version {SUITE_VERSION}, got {version}")
    models = _named_section(tree, "models", _model)
    if not models:
        raise fail(tree.where("models"), "models: declare at least one model (name: {adapter: ..., checkpoint: ...})")
    if "prompts" not in tree:
        raise fail(tree.loc, "missing 'prompts:' section (source: shapes, split: val, limit: 32)")
    prompts = _relative_paths(build_dataclass(PromptsSpec, tree["prompts"], tree.where("prompts"), "prompts"), tree["prompts"])
    _check_prompt_counts(prompts, tree["prompts"])
    metrics = _named_section(tree, "metrics", _metric)
    if not metrics:
        raise fail(tree.where("metrics"), "metrics: declare at least one metric (e.g. oracle: {})")
    batch_size = _typed(tree, "batch_size", int, "", default=16)
    if batch_size < 1:
        raise fail(tree.where("batch_size"), f"batch_size: must be >= 1, got {batch_size}")
    device = _typed(tree, "device", str, "", default="cpu")
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", device):
        raise fail(tree.where("device"), f"device: expected cpu, cuda, cuda:N or mps, got '{device}'")
    name = _typed(tree, "name", str, "", default=None) or tree.loc.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return Suite(
        version=version, name=name, path=path,
        seed=_seed(tree),
        batch_size=batch_size,
        device=device,
        models=models, prompts=prompts, metrics=metrics,
        gates=_gates(tree, models, metrics),
        report=build_dataclass(ReportSpec, tree.get("report"), tree.where("report"), "report"),
        description=_typed(tree, "description", str, "", default=""),
    )


def sweep_points(model: ModelSpec) -> list[dict]:
    """The model's sweep points in declaration order: fixed params + one grid x zip combination."""
    grid = model.sweep.grid
    zipped = model.sweep.zip
    grid_points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    n_zip = len(next(iter(zipped.values()))) if zipped else 1
    zip_points = [{k: v[i] for k, v in zipped.items()} for i in range(n_zip)]
    return [{**model.params, **g, **z} for g in grid_points for z in zip_points]
