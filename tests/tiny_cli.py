"""`python tests/tiny_cli.py ARGS` = `musebench ARGS` with the tests' tiny adapter registered.

Subprocess tests (kill -9, concurrent runs, torchrun) need the adapter in a fresh process.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from musebench.cli.main import main  # noqa: E402
from musebench.models import registry  # noqa: E402

registry.ADAPTERS.setdefault("tiny", "tiny_adapter:TinyAdapter")

if __name__ == "__main__":
    sys.exit(main())
