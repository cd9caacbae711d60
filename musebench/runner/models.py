"""Load each suite model's adapter and check its sampler params against its declaration.

Params are typed by the adapter's declaration (models/declared.py), the same check the torch-free
runner/early_models.py made before torch was imported, so the words match; an unknown name, a wrong
type, a value out of bounds or an unknown choice is an error naming the suite's file:line. All of this happens before any
image is generated, so a bad suite writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.declared import Declared, of_adapter
from musebench.models.param_check import check_with_adapter
from musebench.models.registry import ADAPTERS, load_adapter
from musebench.prompts.base import PromptRecord
from musebench.runner.early_models import suite_param
from musebench.suite import ModelSpec, Suite


@dataclass(frozen=True)
class LoadedModel:
    spec: ModelSpec
    adapter: object  # a musebench.models.base.ModelAdapter
    declared: Declared  # its sampler parameters (models/declared.py): every point is typed by it
    defaults: dict[str, ParamValue]
    fingerprint: str
    resolution: int
    batch_size: int
    cacheable: bool  # False for adapters whose images come from the records (`real`)

    def full_params(self, params: dict) -> dict:
        """Defaults overlaid with the point's params, less those that cannot change an image
        (Declared.keyed: an opt-in option that is off): what the adapter runs, and the cache key's params."""
        return self.declared.keyed({**self.defaults, **params})


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
    model = loaded_model(spec, adapter, spec.batch_size or suite_batch_size)
    for name, value in spec.params.items():
        suite_param(spec, model.declared, name, value)
    if not model.cacheable and hasattr(adapter, "check_records"):
        adapter.check_records(records)
    return model


def loaded_model(spec: ModelSpec, adapter, batch_size: int) -> LoadedModel:
    """An adapter as the runner holds it (a run's models, and `musebench generate`'s one)."""
    declared = of_adapter(adapter)
    return LoadedModel(
        spec=spec, adapter=adapter, declared=declared, defaults=declared.keyed(declared.defaults()), fingerprint=str(adapter.fingerprint()),
        resolution=int(adapter.resolution()), batch_size=batch_size, cacheable=bool(getattr(adapter, "cacheable", True)),
    )


def canonical_params(models: dict[str, LoadedModel]):
    """The planner's hook: a point's params typed by its adapter's defaults."""

    def canonical(model_name: str, params: dict) -> dict:
        model = models[model_name]
        return {k: suite_param(model.spec, model.declared, k, v) for k, v in params.items()}

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
