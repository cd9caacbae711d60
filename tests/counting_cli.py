"""`python tests/counting_cli.py ARGS` = tests/tiny_cli.py plus the `counting` adapter: the tiny
adapter that also counts what it generates, for the shared-work tests (tests/test_cache_claims.py).

CountingAdapter appends one line per generated image, "<pid> <seed> <prompt>", to the file named by
$MUSEBENCH_TEST_COUNT (O_APPEND: lines from several processes never interleave), so a test counts
the images each process really generated without trusting the run's own report. With
$MUSEBENCH_TEST_RENDEZVOUS=DIR:N, the first generate() call of each process waits until N processes
have reached their first batch, so N concurrent runs are certain to overlap.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_adapter import TinyAdapter  # noqa: E402
from tiny_cli import main  # noqa: E402  (registers tiny and pixel_mean)

from musebench.models.registry import ADAPTERS  # noqa: E402

ADAPTERS.setdefault("counting", "counting_cli:CountingAdapter")
RENDEZVOUS_TIMEOUT_S = 120.0


class CountingAdapter(TinyAdapter):
    name = "counting"
    _met = False

    def generate(self, prompts, seeds, params):
        if not CountingAdapter._met:
            CountingAdapter._met = True
            _rendezvous(os.environ.get("MUSEBENCH_TEST_RENDEZVOUS"))
        images = super().generate(prompts, seeds, params)
        lines = "".join(f"{os.getpid()} {seed} {prompt}\n" for prompt, seed in zip(prompts, seeds))
        fd = os.open(os.environ["MUSEBENCH_TEST_COUNT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
        return images


def _rendezvous(spec: str | None) -> None:
    if not spec:
        return
    directory, count = spec.rsplit(":", 1)
    Path(directory, f"ready.{os.getpid()}").touch()
    deadline = time.monotonic() + RENDEZVOUS_TIMEOUT_S
    while len(list(Path(directory).glob("ready.*"))) < int(count) and time.monotonic() < deadline:
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
