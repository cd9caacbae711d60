"""Load each suite model's adapter and check its sampler params against `adapter.defaults()`.

Params are typed by the defaults (an int where the default is a float becomes that float, so
`guidance: 2` and `guidance: 2.0` share cache entries); an unknown name or a wrong type is an
error naming the suite's file:line and the accepted params. All of this happens before any
image is generated, so a bad suite writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.param_check import bound_problem, check_with_adapter
from musebench.models.registry import ADAPTERS, load_adapter
from musebench.prompts.base import PromptRecord
from musebench.suite import ModelSpec, Suite
from musebench.suite.typecheck import did_you_mean


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    adapter: object  # a musebench.models.base.ModelAdapter
    defaults: dict[str, ParamValue]
    fingerprint: str
    resolution: int
    batch_size: int
    cacheable: bool  # False for adapters whose images come from the records (`real`)

    def full_params(self, params: dict) -> dict:
        """Defaults overlaid with the point's params: what the adapter runs, and the cache key's params."""
        return {**self.defaults, **params}


def _type_error(spec: ModelSpec, name: str, value, default) -> MusebenchError:
    where = spec.param_locs.get(name, spec.loc)
    kind = type(default).__name__
    return MusebenchError(f"{where}: models.{spec.name}: sampler parameter '{name}' must be {kind} like its default {default!r}, got {value!r}")


def coerce_param(spec: ModelSpec, name: str, value: ParamValue, defaults: dict) -> ParamValue:
    """The value typed by the adapter's default and inside its documented bounds (models/param_check.py)."""
    value = _coerce_type(spec, name, value, defaults)
    problem = bound_problem(name, value)
    if problem is not None:
        raise MusebenchError(f"{spec.param_locs.get(name, spec.loc)}: models.{spec.name}: {problem}")
    return value


def _coerce_type(spec: ModelSpec, name: str, value: ParamValue, defaults: dict) -> ParamValue:
    if name not in defaults:
        where = spec.param_locs.get(name, spec.loc)
        accepted = ", ".join(sorted(defaults)) or "none"
        raise MusebenchError(
            f"{where}: models.{spec.name}: adapter {spec.adapter} has no sampler parameter '{name}'{did_you_mean(name, defaults)}; accepted: {accepted}"
        )
    default = defaults[name]
    if default is None:  # the adapter accepts any value here (e.g. an optional scheduler name)
        return value
    if isinstance(default, bool) or isinstance(value, bool):
        if isinstance(default, bool) and isinstance(value, bool):
            return value
        raise _type_error(spec, name, value, default)
    if isinstance(default, float) and isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, type(default)):
        return value
    raise _type_error(spec, name, value, default)


def _load(spec: ModelSpec, device: str):
    module_name = ADAPTERS[spec.adapter].split(":")[0]
    try:
        return load_adapter(spec.adapter, spec.checkpoint, device)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:  # a dependency of the adapter is missing
            raise MusebenchError(f"{spec.loc}: models.{spec.name}: adapter '{spec.adapter}' needs the Python module '{exc.name}', which is not installed; install it") from None
        raise MusebenchError(f"{spec.loc}: models.{spec.name}: adapter '{spec.adapter}' is registered but {module_name} is not installed yet; use another adapter") from None
    except MusebenchError as exc:
        raise MusebenchError(f"{spec.loc}: models.{spec.name}: {exc}") from None
    except Exception as exc:  # reference_model's one-line input errors, e.g. a bad checkpoint
        from reference_model.errors import ReferenceModelError

        if isinstance(exc, ReferenceModelError):
            raise MusebenchError(f"{spec.loc}: models.{spec.name}: {exc}") from None
        raise


def check_device(device: str, suite: Suite) -> None:
    import torch

    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise MusebenchError(f"{suite.path}: device {device}: no such CUDA device here ({torch.cuda.device_count()} visible); use --set device=cpu")
    if device == "mps" and not torch.backends.mps.is_available():
        raise MusebenchError(f"{suite.path}: device mps is not available here; use --set device=cpu")


def load_models(suite: Suite, records: list[PromptRecord], device: str | None = None) -> dict[str, LoadedModel]:
    """Every model loaded and its fixed params checked; a MusebenchError lists every model's problem."""
    from musebench.preflight import combine

    check_device(device or suite.device, suite)
    loaded, problems = {}, []
    for spec in suite.models:
        try:
            loaded[spec.name] = _load_one(spec, records, device or suite.device, suite.batch_size)
        except MusebenchError as exc:
            problems.append(str(exc))
    if problems:
        raise combine(problems)
    return loaded


def _load_one(spec: ModelSpec, records: list[PromptRecord], device: str, suite_batch_size: int) -> LoadedModel:
    adapter = _load(spec, device)
    defaults = dict(adapter.defaults())
    for name, value in spec.params.items():
        coerce_param(spec, name, value, defaults)
    cacheable = bool(getattr(adapter, "cacheable", True))
    if not cacheable and hasattr(adapter, "check_records"):
        adapter.check_records(records)
    return LoadedModel(
        spec=spec, adapter=adapter, defaults=defaults, fingerprint=str(adapter.fingerprint()),
        resolution=int(adapter.resolution()), batch_size=spec.batch_size or suite_batch_size,
        cacheable=cacheable,
    )


def canonical_params(models: dict[str, LoadedModel]):
    """The planner's hook: a point's params typed by its adapter's defaults."""

    def canonical(model_name: str, params: dict) -> dict:
        model = models[model_name]
        return {k: coerce_param(model.spec, k, v, model.defaults) for k, v in params.items()}

    return canonical



def check_points(models: dict[str, LoadedModel], points) -> None:
    """Each sweep point's full params through its adapter's own check (names of schedules and
    schedulers, which only the adapter knows) before the first image: a bad choice fails here, not
    after the points before it were generated."""
    for point in points:
        model = models[point.model]
        try:
            check_with_adapter(model.adapter, model.full_params(point.params))
        except MusebenchError as exc:
            raise MusebenchError(f"{model.spec.loc}: models.{model.spec.name}: {exc}") from None
