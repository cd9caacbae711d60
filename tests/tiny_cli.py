"""`python tests/tiny_cli.py ARGS` = `musebench ARGS` with the tests' tiny adapter and metric registered.

Subprocess tests (kill -9, concurrent runs, torchrun) need the adapter in a fresh process.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from musebench.cli.main import main  # noqa: E402
from musebench.metrics.registry import METRICS  # noqa: E402
from musebench.models.registry import ADAPTER_PARAMS, ADAPTERS  # noqa: E402

ADAPTERS.setdefault("tiny", "tiny_adapter:TinyAdapter")
ADAPTER_PARAMS.setdefault("tiny", "tiny_params:declare")
METRICS.setdefault("pixel_mean", "tiny_metric")

if __name__ == "__main__":
    sys.exit(main())
