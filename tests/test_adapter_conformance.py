"""Every adapter in registry.ADAPTERS keeps the ModelAdapter contract (musebench/models/base.py).

Each adapter is built tiny: muse and ldm from randomly initialised checkpoints saved in the test
through reference_model's own save_checkpoint (the builders of test_muse_model.py and
test_ldm_model.py), diffusers from a tiny Stable Diffusion pipeline saved with save_pretrained
(test_diffusers_adapter.py), real as it ships. A newly registered adapter fails here until BUILDERS
has a tiny fixture for it.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest
import torch
from test_diffusers_adapter import build_sd
from test_ldm_model import build_tiny_checkpoint
from test_muse_model import tiny_config as tiny_muse_config
from test_muse_model import one_thread, tiny_encoder_dir  # noqa: F401  (fixtures; one_thread is autouse)

from musebench.errors import MusebenchError
from musebench.models.base import DESCRIBE_KEYS, ModelAdapter, RecordsAdapter
from musebench.models.declared import of_adapter
from musebench.models.param_check import check_with_adapter
from musebench.models.registry import ADAPTER_PARAMS, ADAPTERS, adapter_class, declared_params, load_adapter

PROMPTS = ["a red circle", "two blue squares", "a green star"]  # shapes captions: `real` renders them
SEEDS = [0, 1, 7]


def build_muse(directory, request):
    from reference_model.checkpoint import save_checkpoint
    from reference_model.tokenizer import VQModel
    from reference_model.transformer import MaskedTransformer

    config = tiny_muse_config(request.getfixturevalue("tiny_encoder_dir"))
    torch.manual_seed(1)  # weights only; sampling always uses explicit generators
    save_checkpoint(directory, config, VQModel(config.vq), MaskedTransformer(config.transformer), {"adapter": "muse"})
    return str(directory)


def build_cascade(directory, request):
    from tiny_cascade import build_cascade as build

    return str(build(directory, request.getfixturevalue("tiny_encoder_dir")))


def build_ldm(directory, request):
    build_tiny_checkpoint(directory)
    return str(directory)


def build_diffusers(directory, request):
    build_sd(directory)
    return str(directory)


def build_real(directory, request):
    return None  # `real` takes no checkpoint


# adapter name -> (directory, request) -> its tiny checkpoint for from_spec
BUILDERS = {"muse": build_muse, "muse-cascade": build_cascade, "ldm": build_ldm, "diffusers": build_diffusers, "real": build_real}

# Clauses of generate()'s contract an adapter documents it does not keep: name -> (the sentence in
# its module docstring that says so, the reason the test prints when it skips).
NOT_BATCH_INVARIANT = {
    "diffusers": ("CPU kernels round by batch size", "diffusers: a third-party pipeline's batched CPU "
                  "kernels may round by batch size (module docstring); test_diffusers_adapter bounds it by 1"),
}
SEEDLESS = {
    "real": ("(seeds are not used)", "real: the image is the caption's own scene, which has no seed (generate's docstring)"),
}


def test_every_registered_adapter_has_a_tiny_fixture():
    missing = sorted(set(ADAPTERS) - set(BUILDERS))
    assert not missing, f"registered without a conformance fixture: {missing}; add a tiny builder to BUILDERS"


@pytest.fixture(scope="module", params=sorted(ADAPTERS))
def case(request, tmp_path_factory):
    """(name, checkpoint, adapter loaded through the registry, fast params over its defaults)."""
    name = request.param
    if name not in BUILDERS:
        pytest.fail(f"adapter '{name}' is registered without a conformance fixture; add a tiny builder to BUILDERS")
    checkpoint = BUILDERS[name](tmp_path_factory.mktemp(f"tiny-{name}"), request)
    adapter = load_adapter(name, checkpoint, "cpu")
    params = dict(adapter.defaults())
    if "steps" in params:
        params["steps"] = 2  # speed only: every other value (guidance included) is the adapter's default
    return name, checkpoint, adapter, params


@pytest.fixture(scope="module")
def batch(case):
    name, _, adapter, params = case
    return adapter.generate(PROMPTS, SEEDS, params)


def test_conforms_to_the_protocol(case):
    name, _, adapter, _ = case
    assert isinstance(adapter, ModelAdapter)
    assert type(adapter) is adapter_class(name) and adapter.name == name
    assert isinstance(adapter.version, str) and adapter.version
    if not getattr(adapter, "cacheable", True):  # the runner asks these adapters for the records' images
        assert isinstance(adapter, RecordsAdapter)


def test_from_spec_through_the_registry_is_the_same_model(case):
    name, checkpoint, adapter, _ = case
    again = adapter_class(name).from_spec(checkpoint, "cpu")
    assert again.fingerprint() == adapter.fingerprint() == adapter.fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16,}", adapter.fingerprint())


def test_defaults_are_the_torch_free_declaration(case):
    name, checkpoint, adapter, _ = case
    declared = declared_params(name, checkpoint)
    if declared is None:  # its parameters are known only once loaded (registry.ADAPTER_PARAMS)
        assert name not in ADAPTER_PARAMS
        assert of_adapter(adapter).defaults() == dict(adapter.defaults())
    else:
        assert dict(adapter.defaults()) == declared.defaults()
        assert of_adapter(adapter) == declared  # names, defaults and choices


def test_generate_returns_uint8_images_at_the_resolution(case, batch):
    _, _, adapter, _ = case
    side = adapter.resolution()
    assert batch.dtype == torch.uint8 and batch.device.type == "cpu"
    assert tuple(batch.shape) == (len(PROMPTS), 3, side, side)


def test_same_seed_same_bytes(case, batch):
    _, _, adapter, params = case
    assert torch.equal(adapter.generate(PROMPTS, SEEDS, params), batch)


def test_an_image_does_not_depend_on_its_batch(case, batch):
    name, _, adapter, params = case
    if name in NOT_BATCH_INVARIANT:
        sentence, reason = NOT_BATCH_INVARIANT[name]
        assert sentence in " ".join(inspect.getmodule(adapter).__doc__.split())  # documented, or no skip
        pytest.skip(reason)
    alone = torch.cat([adapter.generate([p], [s], params) for p, s in zip(PROMPTS, SEEDS)])
    assert torch.equal(alone, batch)


def test_different_seeds_make_different_images(case):
    name, _, adapter, params = case
    if name in SEEDLESS:
        sentence, reason = SEEDLESS[name]
        assert sentence in " ".join(type(adapter).generate.__doc__.split())  # documented, or no skip
        pytest.skip(reason)
    images = adapter.generate(PROMPTS[:1] * 2, [0, 1], params)
    assert not torch.equal(images[0], images[1])


def test_describe_returns_the_documented_keys(case):
    _, _, adapter, params = case
    description = adapter.describe(params)
    assert set(DESCRIBE_KEYS) <= set(description)
    assert isinstance(description["parameters"], int) and isinstance(description["flops_per_image"], (int, float))
    assert description["resolution"] == adapter.resolution()
    assert json.loads(json.dumps(description)) == description  # cached as JSON (metrics/describe_cache.py)


def test_an_unknown_parameter_is_refused_everywhere(case):
    """The runner types each given parameter by the adapter's declaration and checks each sweep
    point's full params with check_with_adapter; generate refuses it too."""
    _, _, adapter, params = case
    message = "does not take parameter 'bogus'"
    with pytest.raises(MusebenchError, match=message):
        of_adapter(adapter).typed("bogus", 1, "suite.yaml:3")
    if hasattr(adapter, "check_params"):  # optional in the protocol; every shipped adapter has one
        with pytest.raises(MusebenchError, match=message):
            check_with_adapter(adapter, {**params, "bogus": 1})
    with pytest.raises(MusebenchError, match=message):
        adapter.generate(PROMPTS[:1], SEEDS[:1], {"bogus": 1})
