"""The reference Muse's state-dict keys and shapes, computed from its config in pure Python.

Why this exists: issue 23's memory bar (every bad input refused under 500 MB peak RSS, while
`import torch` alone is ~0.5 GB). A checkpoint preflight (checkpoint.check_checkpoint) must refuse
weights that do not fit config.json without torch, and building the modules, even on the meta
device, imports it. So this file mirrors tokenizer.py and transformer.py module by module;
tests/test_param_shapes.py proves the result equal to the real modules'
`{k: tuple(v.shape) for k, v in module.state_dict().items()}` for shipped and tiny configs, so an
architecture change that forgets this file fails there. Every tensor of these modules is float32.
"""

from __future__ import annotations

from reference_model.config import MuseConfig, SuperResConfig, TransformerConfig, VQConfig

Shapes = dict[str, tuple[int, ...]]  # state-dict key -> shape


def linear(name: str, c_in: int, c_out: int) -> Shapes:
    """nn.Linear(c_in, c_out)."""
    return {f"{name}.weight": (c_out, c_in), f"{name}.bias": (c_out,)}


def conv(name: str, c_in: int, c_out: int, kernel: int) -> Shapes:
    """nn.Conv2d(c_in, c_out, kernel)."""
    return {f"{name}.weight": (c_out, c_in, kernel, kernel), f"{name}.bias": (c_out,)}


def norm(name: str, channels: int) -> Shapes:
    """nn.LayerNorm(channels) or an affine nn.GroupNorm(_, channels)."""
    return {f"{name}.weight": (channels,), f"{name}.bias": (channels,)}


def _res_block(name: str, c_in: int, c_out: int) -> Shapes:
    """tokenizer.ResBlock: the 1x1 skip conv only when the width changes."""
    shapes = {**norm(f"{name}.norm1", c_in), **conv(f"{name}.conv1", c_in, c_out, 3),
              **norm(f"{name}.norm2", c_out), **conv(f"{name}.conv2", c_out, c_out, 3)}
    return {**shapes, **conv(f"{name}.skip", c_in, c_out, 1)} if c_in != c_out else shapes


def _stages(name: str, channels: tuple[int, ...], blocks: tuple[int, ...], resample: tuple[int, ...]) -> Shapes:
    """Encoder/Decoder `stages` (nn.Sequential): before each stage but the first, the resampling
    layers (`resample` = kernel of each entry, 0 for a parameter-free nn.Upsample), then its blocks."""
    shapes: Shapes = {}
    index = 0
    for i, c in enumerate(channels):
        if i > 0:
            for kernel in resample:
                if kernel:
                    shapes.update(conv(f"{name}.{index}", channels[i - 1], c, kernel))
                index += 1
        for _ in range(blocks[i]):
            shapes.update(_res_block(f"{name}.{index}", c, c))
            index += 1
    return shapes


def vq_shapes(config: VQConfig) -> Shapes:
    """tokenizer.VQModel: encoder (stride-2 4x4 convs), quantizer codebook, decoder (upsample + 3x3 conv)."""
    ch, up = config.channels, tuple(reversed(config.channels))
    return {
        **conv("encoder.conv_in", config.in_channels, ch[0], 3),
        **_stages("encoder.stages", ch, config.res_blocks, resample=(4,)),
        **norm("encoder.norm_out", ch[-1]),
        **conv("encoder.conv_out", ch[-1], config.code_dim, 1),
        "quantizer.codebook": (config.codebook_size, config.code_dim),
        **conv("decoder.conv_in", config.code_dim, up[0], 3),
        **_stages("decoder.stages", up, tuple(reversed(config.res_blocks)), resample=(0, 3)),
        **norm("decoder.norm_out", up[-1]),
        **conv("decoder.conv_out", up[-1], config.in_channels, 3),
    }


def _attention_mlp(name: str, config: TransformerConfig, cross: bool) -> Shapes:
    """transformer.Block (cross=True) or TextBlock (cross=False)."""
    w, hidden = config.width, config.mlp_ratio * config.width
    shapes = {**norm(f"{name}.norm_self", w), **linear(f"{name}.self_attn.qkv", w, 3 * w),
              **linear(f"{name}.self_attn.proj", w, w)}
    if cross:
        shapes.update({**norm(f"{name}.norm_cross", w), **linear(f"{name}.cross_attn.q", w, w),
                       **linear(f"{name}.cross_attn.kv", w, 2 * w), **linear(f"{name}.cross_attn.proj", w, w)})
    return {**shapes, **norm(f"{name}.norm_mlp", w), **linear(f"{name}.mlp.fc", w, hidden),
            **linear(f"{name}.mlp.proj", hidden, w)}


def transformer_shapes(config: TransformerConfig) -> Shapes:
    """transformer.MaskedTransformer, with the optional text refiner when text_layers > 0."""
    w = config.width
    shapes: Shapes = {
        "token_emb.weight": (config.vocab_size + 1, w),  # +1: [MASK]
        "row_emb": (config.grid, 1, w),
        "col_emb": (1, config.grid, w),
        **linear("text_proj", config.text_dim, w),
        **norm("text_norm", w),
    }
    if config.text_layers:
        shapes["text_pos"] = (1, config.text_length, w)
        for i in range(config.text_layers):
            shapes.update(_attention_mlp(f"text_blocks.{i}", config, cross=False))
    for i in range(config.depth):
        shapes.update(_attention_mlp(f"blocks.{i}", config, cross=True))
    return {**shapes, **norm("norm_out", w), **linear("head", w, config.vocab_size)}


def muse_shapes(config: MuseConfig) -> dict[str, Shapes]:
    """{prefix in model.safetensors: that part's shapes}, as checkpoint.save_checkpoint writes them."""
    return {"vq.": vq_shapes(config.vq), "transformer.": transformer_shapes(config.transformer)}


def super_res_shapes(config: SuperResConfig) -> dict[str, Shapes]:
    """super_res.SuperResTransformer and its tokenizer, as sr_checkpoint.save_sr_checkpoint writes them."""
    w, low = config.transformer.width, config.lowres
    sr: Shapes = {f"core.{k}": v for k, v in transformer_shapes(config.transformer).items()}
    sr.update({"lowres_emb.weight": (low.vocab_size, w), "lowres_pos": (1, low.grid**2, w)})
    for i in range(low.layers):
        sr.update(_attention_mlp(f"lowres_blocks.{i}", config.transformer, cross=False))
    sr.update({**norm("lowres_norm", w), **linear("up", w, w)})
    return {"vq.": vq_shapes(config.vq), "sr.": sr}
