"""Each shipped checkpoint's card names the command that trained it: `python -m recipes.<name> ...`,
typed at the root of a clone (recipes/ is not installed). These tests read those commands from the
cards and run them as written, at toy size (toy flags appended: argparse keeps the last value)."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "musebench" / "checkpoints"
SHIPPED = sorted(p.name for p in CHECKPOINTS.iterdir() if (p / "config.json").is_file())
COMMAND = re.compile(r"python -m recipes\.\w+[^`\n]*")

MUSE_TOY = ["--images", "48", "--vq-steps", "2", "--vq-batch", "4", "--steps", "2", "--batch-size", "4",
            "--width", "8", "--depth", "1", "--heads", "2", "--codebook-size", "256", "--eval-every", "2",
            "--curve-prompts", "6", "--eval-prompts", "6", "--holdout-prompts", "4",
            "--relation-steps", "2,2,2", "--binding-steps", "2"]
LDM_TOY = ["--steps", "2", "--minutes", "5", "--batch-size", "4", "--eval-every", "0", "--sweep-prompts", "1",
           "--eval-prompts", "2", "--threads", "1"]
PROBE_TOY = ["--steps", "2", "--batch", "4", "--val-n", "8"]


def card_commands(name: str) -> list[list[str]]:
    """The `python -m recipes.*` commands of a checkpoint's card, in order (the first trained it)."""
    return [shlex.split(m.group(0)) for m in COMMAND.finditer((CHECKPOINTS / name / "CARD.md").read_text())]


OTHER_RECIPE = {"probe-clip-64": "probe_clip"}  # trained by another checkpoint's recipe, with its own flags


def recipe(name: str) -> str:
    """muse-shapes -> muse_shapes: the recipe module that trains a shipped checkpoint."""
    return OTHER_RECIPE.get(name, name.replace("-", "_"))


@pytest.mark.parametrize("name", SHIPPED)
def test_each_card_names_its_recipe_with_arguments_it_accepts(name):
    commands = card_commands(name)
    assert commands, f"{name}/CARD.md names no `python -m recipes.<name>` command"
    python, flag, module, *argv = commands[0]
    assert (python, flag, module) == ("python", "-m", f"recipes.{recipe(name)}")
    assert (ROOT / "recipes" / f"{recipe(name)}.py").is_file()
    importlib.import_module(module).parse_args(argv)  # every flag the card typed exists (else SystemExit)
    training = json.loads((CHECKPOINTS / name / "config.json").read_text()).get("training", {})
    if "command" in training:  # the packaged record says the same as the card
        assert shlex.split(training["command"]) == commands[0]


@pytest.mark.parametrize("name", SHIPPED)
def test_no_card_or_config_names_a_checkout_path(name):
    for path in (CHECKPOINTS / name).glob("*.*"):
        if path.suffix in (".md", ".json"):
            text = path.read_text()
            assert not re.search(r"(/work/|/root/|/home/)", text) and str(ROOT) not in text, path


def run(command: list[str], *toy: str) -> subprocess.CompletedProcess:
    """A card's command as typed at the repository root (no PYTHONPATH: recipes/ is found because the
    working directory is the root), with toy flags after it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    assert command[0] == "python"
    done = subprocess.run([sys.executable, *command[1:], *toy], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow  # two trainings end to end as subprocesses (~100 s on a shared 2-core CPU)
def test_the_muse_and_ldm_card_commands_reproduce_a_short_training_run(tmp_path):
    from musebench.models.registry import load_adapter

    muse_work, muse_out = tmp_path / "muse-work", tmp_path / "muse-shapes"
    run(card_commands("muse-shapes")[0], *MUSE_TOY, "--work", str(muse_work), "--out", str(muse_out))
    assert "python -m recipes.muse_shapes --work" in (muse_out / "CARD.md").read_text()
    assert load_adapter("muse", str(muse_out)).generate(["a red circle"], [0], {"steps": 2}).shape == (1, 3, 32, 32)

    # ldm-shapes reads the Muse run's data (--muse-work) and, as its card says, a given --tokenizer
    ldm_work, ldm_out = tmp_path / "ldm-work", tmp_path / "ldm-shapes"
    run(card_commands("ldm-shapes")[0], *LDM_TOY, "--muse-work", str(muse_work), "--tokenizer", str(muse_out),
        "--work", str(ldm_work), "--out", str(ldm_out))
    card = (ldm_out / "CARD.md").read_text()
    assert card.startswith("# ldm-shapes") and "`python -m recipes.ldm_shapes --work" in card
    assert json.loads((ldm_out / "config.json").read_text())["adapter"] == "ldm"
    assert load_adapter("ldm", str(ldm_out)).generate(["a red circle"], [0], {"steps": 2}).shape == (1, 3, 32, 32)


@pytest.mark.slow  # a toy Muse, then its super-resolution stage, as subprocesses (~2 min on a shared 2-core CPU)
def test_the_muse_sr_card_command_reproduces_a_short_training_run(tmp_path):
    from musebench.models.registry import load_adapter

    base = tmp_path / "muse-shapes"
    run(card_commands("muse-shapes")[0], *MUSE_TOY, "--work", str(tmp_path / "muse-work"), "--out", str(base))
    out = tmp_path / "muse-sr"
    run(card_commands("muse-sr")[0], "--images", "48", "--vq-steps", "2", "--vq-batch", "4", "--steps", "2",
        "--batch-size", "4", "--width", "8", "--depth", "1", "--heads", "2", "--lowres-layers", "1",
        "--eval-prompts", "4", "--base", str(base), "--work", str(tmp_path / "sr-work"), "--out", str(out))
    assert "python -m recipes.muse_sr --work" in (out / "CARD.md").read_text()
    images = load_adapter("muse-cascade", str(out)).generate(["a red circle"], [0], {"steps": 2})
    assert images.shape == (1, 3, 64, 64)


@pytest.mark.slow  # a probe CLIP training as a subprocess (~30 s on a shared 2-core CPU)
def test_the_probe_clip_card_command_reproduces_a_short_training_run(tmp_path):
    out = tmp_path / "probe-clip"
    run(card_commands("probe-clip")[0], *PROBE_TOY, "--out", str(out))
    assert json.loads((out / "config.json").read_text())["training"]["steps"] == 2
    assert "- command: `python -m recipes.probe_clip --steps 800 --steps 2" in (out / "CARD.md").read_text()


def readme_recipe_commands() -> list[list[str]]:
    """The `python -m recipes.*` commands of README.md's code blocks, continuation lines joined, comments cut."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "README.md").read_text())
    return [shlex.split(line.split("#")[0]) for line in text.splitlines() if line.startswith("python -m recipes.")]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_readme_reproduces_each_checkpoint_by_its_cards_command(name):
    # ldm-shapes' card asks for its own tokenizer on top of the command it records (see its card)
    def without_tokenizer(argv: list[str]) -> list[str]:
        if "--tokenizer" not in argv:
            return argv
        i = argv.index("--tokenizer")
        return argv[:i] + argv[i + 2:]

    assert card_commands(name)[0] in [without_tokenizer(c) for c in readme_recipe_commands()], (
        f"README.md has no `python -m recipes.*` line equal to {name}/CARD.md's command")
