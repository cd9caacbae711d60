from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data: real prompt and caption files. Skipped only where the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (a user's clone); CI has it")
    return SHARED_DATA


@pytest.fixture(scope="module")
def tiny_probe(tmp_path_factory) -> Path:
    """A probe CLIP checkpoint trained for 2 steps by the real trainer (fast; quality irrelevant here)."""
    from recipes.probe_clip import main as train

    out = tmp_path_factory.mktemp("probe") / "probe"
    assert train(["--out", str(out), "--steps", "2", "--batch", "8", "--val-n", "4"]) == 0
    return out
