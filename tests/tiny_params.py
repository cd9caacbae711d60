"""The tests' tiny adapter's sampler parameters, declared without torch (musebench/models/declared.py).

Registered in registry.ADAPTER_PARAMS next to tiny_adapter:TinyAdapter (tiny_cli.py,
runner_support.tiny_registry), so a bad tiny suite is refused before torch is imported, the way a
shipped adapter's is; TinyAdapter.declared() returns this same declaration.
"""

from musebench.models.checkpoints import resolve_checkpoint
from musebench.models.declared import Declared, Param


def declare(checkpoint: str | None) -> Declared:
    if checkpoint is not None:
        resolve_checkpoint(checkpoint)  # a missing checkpoint is refused before torch, like muse's
    return Declared("tiny", (Param("steps", 2), Param("guidance", 1.0)))
