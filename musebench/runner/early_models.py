"""A run's models, checked from their files before torch is imported (runner/early.py's model step).

For each suite model: the checkpoint resolves and its config.json reads (reference_model's strict,
torch-free readers), its weights hold what the config implies (the safetensors header), and every
sampler parameter of every sweep point has a declared name, its default's type, a value inside its
bound and one of its choices (the adapter's Declared, registry.ADAPTER_PARAMS); an adapter whose
images come from the prompt records checks those (`real`: an image of its own, a readable header).
`suite_param` is also the loaded runner's check (runner/models.py), so the words are the same there.
"""

from __future__ import annotations

from musebench.errors import MusebenchError
from musebench.models.base import ParamValue
from musebench.models.declared import Declared
from musebench.preflight import combine
from musebench.prompts.base import PromptRecord
from musebench.suite import ModelSpec, Suite, sweep_points


def suite_param(spec: ModelSpec, declared: Declared, name: str, value: ParamValue) -> ParamValue:
    """The value typed by the adapter's declaration, or MusebenchError at the suite's file:line."""
    return declared.typed(name, value, f"{spec.param_locs.get(name, spec.loc)}: models.{spec.name}")


def check_models(suite: Suite, records: list[PromptRecord]) -> None:
    """Every model's checkpoint, params and sweep points; MusebenchError listing every model's problem."""
    problems = []
    for spec in suite.models:
        try:
            check_model(spec, records)
        except MusebenchError as exc:
            problems.append(str(exc))
    if problems:
        raise combine(problems)


def check_model(spec: ModelSpec, records: list[PromptRecord]) -> None:
    declared = _declared(spec)
    if declared is None:  # known once loaded (diffusers): prepare_run checks it
        return
    for point in sweep_points(spec):
        for name, value in point.items():
            suite_param(spec, declared, name, value)
    if declared.check_records is not None:
        declared.check_records(records)


def _declared(spec: ModelSpec) -> Declared | None:
    """The adapter's declaration for this checkpoint, its config and weights checked on the way."""
    from musebench.models.checkpoints import check_checkpoint_weights
    from musebench.models.registry import declared_params

    try:
        declared = declared_params(spec.adapter, spec.checkpoint)
        if declared is not None and spec.checkpoint is not None:
            check_checkpoint_weights(spec.checkpoint)
    except MusebenchError as exc:
        raise MusebenchError(f"{spec.loc}: models.{spec.name}: {exc}") from None
    return declared
