"""Train the shipped `muse-shapes` checkpoint: the one command that reproduces it.

    python -m recipes.muse_shapes --work runs/muse-shapes-train \
        --out musebench/checkpoints/muse-shapes

Stages, each resumable (a finished stage's output is reused; an interrupted training resumes from
its last state.pt): data (render the training set) -> vq (train the tokenizer) -> ceiling (oracle
accuracy of VQ reconstructions) -> tokens (VQ ids + caption encodings) -> transformer -> finetune
(only with --finetune-steps: more steps from the trained weights with a fresh optimizer and a low
learning rate) -> relations (only with --relation-steps: a text refiner added and a three-phase
curriculum that teaches which object a relation puts where) -> eval (oracle accuracy of generations
at 12 steps on val and holdout) -> package (checkpoint + card).
`--until STAGE` stops after that stage. Re-running the command with the same arguments continues.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from musebench.cache.atomic import write_atomic_text
from musebench.errors import MusebenchError

STAGES = ("data", "vq", "ceiling", "tokens", "transformer", "finetune", "relations", "binding", "eval", "package")

# The relations stage (benchmarks/muse_relation_probe.py says why): (work subdir, caption forms of the
# position images, whether every other image is in the rows too). Phase 1 names position scenes only
# as "A left of B" / "A above B" or "A <relation> something", so which object goes where depends on
# one fact at a time (word order, or the relation's direction) and is learned; phase 2 mixes the
# original captions in, whose meaning is the combination; phase 3 brings every category back.
RELATION_PHASES = (
    ("1-order", ("canonical", "subject"), False),
    ("2-direction", ("subject", "original"), False),
    ("3-everything", ("canonical", "subject"), True),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m recipes.muse_shapes", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, default=Path("runs/muse-shapes-train"), help="stage outputs and logs")
    p.add_argument("--out", type=Path, default=Path("musebench/checkpoints/muse-shapes"), help="checkpoint dir")
    p.add_argument("--until", choices=STAGES, default="package", help="stop after this stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (1: a shared 2-core machine is 3x faster than with 2)")
    p.add_argument("--procs", type=_positive_int, default=1,
                   help="data-parallel processes for the VQ and transformer stages (reference_model/data_parallel.py), "
                        "each with --threads threads; 2 on a 2-core machine trains ~1.8x faster than 1. "
                        "Changes only the float summation order, so it is part of the run's config")
    p.add_argument("--images", type=int, default=40_000, help="training images rendered once")
    p.add_argument("--vq-steps", type=int, default=2000)
    p.add_argument("--vq-batch", type=int, default=32)
    p.add_argument("--codebook-size", type=int, default=512)
    p.add_argument("--steps", type=int, default=4000, help="transformer optimizer steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--finetune-steps", type=_non_negative_int, default=0,
                   help="after --steps, this many more steps from the trained weights: fresh AdamW, 50 warm-up "
                        "steps, peak --finetune-lr, cosine to 0, batch stream seed --seed + 1 (0: none)")
    p.add_argument("--finetune-lr", type=_positive_float, default=2e-4)
    p.add_argument("--converse-prob", type=float, default=0.0,
                   help="chance that a position image is trained with its converse caption ('B right of A' "
                        "for 'A left of B'; benchmarks/muse_position_finetune.py); 0: off")
    p.add_argument("--relation-steps", type=_per_phase(int), default=(),
                   help="steps of the relations stage's 3 phases, e.g. 600,600,800 (default: no such stage); it "
                        "adds a text refiner of --relation-text-layers blocks to the trained transformer")
    p.add_argument("--relation-lr", type=_per_phase(float), default=(5e-4, 5e-4, 2e-4), help="peak lr of each phase")
    p.add_argument("--relation-text-layers", type=int, default=2)
    p.add_argument("--binding-steps", type=_non_negative_int, default=0,
                   help="after the relations stage, this many steps on every image once plus each color_attr "
                        "image --binding-extra more times: fresh AdamW, 50 warm-up steps, peak --binding-lr, "
                        "cosine to 0, batch stream seed --seed + 10 (0: no such stage)")
    p.add_argument("--binding-lr", type=_positive_float, default=2e-4)
    p.add_argument("--binding-extra", type=_non_negative_int, default=4, help="extra copies of each color_attr image")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--max-length", type=int, default=16, help="text tokens (captions padded to this)")
    p.add_argument("--guidance", type=float, default=2.0, help="shipped sampler default (eval uses it)")
    p.add_argument("--guidance-schedule", choices=["constant", "linear"], default="constant",
                   help="shipped sampler default guidance schedule (Muse: linear ramp)")
    p.add_argument("--temperature", type=float, default=4.5, help="shipped sampler default choice temperature")
    p.add_argument("--eval-every", type=int, default=500, help="steps between curve points (0: none)")
    p.add_argument("--curve-prompts", type=int, default=120, help="val prompts per curve point")
    p.add_argument("--eval-prompts", type=int, default=1200, help="val prompts of the final eval")
    p.add_argument("--holdout-prompts", type=int, default=400, help="holdout prompts of the final eval")
    return p.parse_args(argv)


def _whole_number(minimum: int):
    """argparse type: a whole number >= minimum, else the one-line error naming the value."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"'{text}': give a whole number >= {minimum}")
        return value
    return parse


_non_negative_int, _positive_int = _whole_number(0), _whole_number(1)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}': give a number > 0, e.g. 2e-4")
    return value


def _per_phase(kind):
    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}': give {len(RELATION_PHASES)} comma-separated numbers") from None
        if len(values) != len(RELATION_PHASES) or min(values) <= 0:
            raise argparse.ArgumentTypeError(f"'{text}': give {len(RELATION_PHASES)} positive comma-separated numbers")
        return values
    return parse


def model_config(args: argparse.Namespace):
    from reference_model.config import MuseConfig, SamplerConfig, TextEncoderConfig, TransformerConfig, VQConfig

    vq = VQConfig(codebook_size=args.codebook_size)
    transformer = TransformerConfig(vocab_size=args.codebook_size, grid=vq.grid, width=args.width,
                                    depth=args.depth, heads=args.heads)
    sampler = SamplerConfig(guidance=args.guidance, guidance_schedule=args.guidance_schedule, temperature=args.temperature)
    config = MuseConfig(vq=vq, text_encoder=TextEncoderConfig(max_length=args.max_length), transformer=transformer,
                        sampler=sampler)
    config.check("command-line arguments")
    return config


def check_same_config(work: Path, config, args: argparse.Namespace) -> None:
    """A work dir belongs to one configuration: resuming with other arguments is an error."""
    from reference_model.config import to_dict

    path = work / "run_config.json"
    model = {k: v for k, v in to_dict(config).items() if k != "sampler"}  # sampler: eval/package only
    for key in ("text_layers", "text_length"):  # the refiner is the relations stage's (relation_* keys)
        model["transformer"].pop(key)
    wanted = {"model": model, "seed": args.seed, "images": args.images, "vq_steps": args.vq_steps,
              "vq_batch": args.vq_batch, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr}
    if args.converse_prob:  # recorded only when on: work dirs of earlier runs stay valid
        wanted["converse_prob"] = args.converse_prob
    if args.procs > 1:  # likewise
        wanted["procs"] = args.procs
    if args.finetune_steps:
        wanted |= {"finetune_steps": args.finetune_steps, "finetune_lr": args.finetune_lr}
    if args.relation_steps:
        wanted |= {"relation_steps": list(args.relation_steps), "relation_lr": list(args.relation_lr),
                   "relation_text_layers": args.relation_text_layers}
    if args.binding_steps:
        wanted |= {"binding_steps": args.binding_steps, "binding_lr": args.binding_lr, "binding_extra": args.binding_extra}
    if path.is_file():
        saved = json.loads(path.read_text())
        wanted = json.loads(json.dumps(wanted))
        diff = sorted(k for k in wanted if wanted[k] != saved.get(k))
        if diff == ["steps"] and wanted["steps"] > saved["steps"]:
            extend_training(work, saved, wanted["steps"])
        elif diff == ["finetune_lr", "finetune_steps"] and "finetune_steps" not in saved:
            add_finetune(work, saved, wanted)
        elif diff == sorted(RELATION_KEYS) and "relation_steps" not in saved:
            add_relations(work, saved, wanted)
        elif diff == sorted(BINDING_KEYS) and "binding_steps" not in saved:
            add_binding(work, saved, wanted)
        elif diff:
            raise MusebenchError(f"{path}: arguments differ from the run in this work dir ({', '.join(diff)}); "
                                 "use the same arguments or another --work (only --steps may grow: that "
                                 "extends a finished training; --finetune-steps, --relation-steps or --binding-steps "
                                 "may be added to a run without one)")
    else:
        work.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(wanted, indent=2) + "\n")


def extend_training(work: Path, saved: dict, steps: int) -> None:
    """--steps larger than the run's: continue training to `steps` (a warm restart of the cosine schedule).

    The cosine decay is recomputed for the new total, so the learning rate rises again from where the
    old schedule ended; batches stay a function of (seed, step). The history goes into run_config.json
    (`steps_history`) and the card, so the checkpoint is reproduced by running the command with each
    recorded --steps in turn. The old final eval is kept as metrics_step<N>.json.
    """
    old = saved["steps"]
    saved["steps_history"] = [*saved.get("steps_history", []), old]
    saved["steps"] = steps
    _change_run(work, saved, f"metrics_step{old}.json", f"extending the transformer training from {old} to {steps} steps")


def add_finetune(work: Path, saved: dict, wanted: dict) -> None:
    """--finetune-steps on a run without one: the trained transformer is kept, the fine-tune starts from
    it; the old final eval is kept as metrics_step<N>.json (N = the run's --steps)."""
    saved |= {"finetune_steps": wanted["finetune_steps"], "finetune_lr": wanted["finetune_lr"],
              "finetune_added_after": saved["steps"]}  # the card's reproduce sequence names this run
    _change_run(work, saved, f"metrics_step{saved['steps']}.json",
                f"adding a {wanted['finetune_steps']}-step fine-tune to the trained transformer")


RELATION_KEYS = ("relation_steps", "relation_lr", "relation_text_layers")


def add_relations(work: Path, saved: dict, wanted: dict) -> None:
    """--relation-steps on a run without them: the trained (and fine-tuned) transformer is kept, the
    relations stage starts from it; the old final eval is kept as metrics_before_relations.json."""
    saved |= {k: wanted[k] for k in RELATION_KEYS}
    saved["relations_added_after"] = "finetune" if "finetune_steps" in saved else "transformer"
    _change_run(work, saved, "metrics_before_relations.json", "adding the relations stage to the trained transformer")


BINDING_KEYS = ("binding_steps", "binding_lr", "binding_extra")


def add_binding(work: Path, saved: dict, wanted: dict) -> None:
    """--binding-steps on a run without them: the binding stage starts from the run's last weights; the
    old final eval is kept as metrics_before_binding.json."""
    saved |= {k: wanted[k] for k in BINDING_KEYS}
    saved["binding_added_after"] = ("relations" if "relation_steps" in saved
                                    else "finetune" if "finetune_steps" in saved else "transformer")
    _change_run(work, saved, "metrics_before_binding.json", "adding the binding stage to the trained transformer")


def _change_run(work: Path, saved: dict, old_metrics: str, message: str) -> None:
    """Keep the old final eval as `old_metrics` (the new weights get their own) and write `saved` as
    run_config.json atomically."""
    metrics = work / "metrics.json"
    if metrics.is_file():
        metrics.replace(work / old_metrics)
    write_atomic_text(work / "run_config.json", json.dumps(saved, indent=2) + "\n")
    print(f"muse_shapes: {message}", file=sys.stderr)


def stage_vq(args, config, data: dict):
    from reference_model.tokenizer import VQModel
    from reference_model.vq_training import VQTrainConfig, train_vq

    torch.manual_seed(args.seed)  # module init only; every later draw takes an explicit generator
    vq = VQModel(config.vq)
    train_config = VQTrainConfig(steps=args.vq_steps, batch_size=args.vq_batch, seed=args.seed, checkpoint_every=100,
                                 procs=args.procs)
    return train_vq(vq, data["images"], train_config, args.work / "vq")


def stage_transformer(args, config, tokens: dict, evaluate):
    from recipes import muse_shapes_data as data_mod
    from reference_model.training import TrainConfig, train_transformer
    from reference_model.transformer import MaskedTransformer

    torch.manual_seed(args.seed + 1)  # module init only
    model = MaskedTransformer(config.transformer)
    data = data_mod.token_data(tokens)
    train_config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                               eval_every=args.eval_every if evaluate else 0, alt_caption_prob=args.converse_prob,
                               procs=args.procs)
    return train_transformer(model, data, train_config, args.work / "transformer", evaluate)


def stage_finetune(args, tokens: dict, transformer):
    """--finetune-steps more steps from the trained weights: a fresh AdamW with a short warm-up and a
    low peak learning rate decaying to 0, on a batch stream of its own (seed + 1)."""
    from recipes import muse_shapes_data as data_mod
    from reference_model.training import TrainConfig, train_transformer

    data = data_mod.token_data(tokens)
    train_config = TrainConfig(steps=args.finetune_steps, batch_size=args.batch_size, lr=args.finetune_lr, warmup=50,
                               seed=args.seed + 1, alt_caption_prob=args.converse_prob, procs=args.procs)
    return train_transformer(transformer.train(), data, train_config, args.work / "finetune")


def stage_relations(args, config, encoder, tokens: dict, captions: list[str], transformer):
    """A text refiner (zero-initialised: the model is unchanged at the start) and RELATION_PHASES, each
    a fresh AdamW with 50 warm-up steps and cosine decay, batch stream seed + 2 + phase."""
    from recipes import muse_shapes_data as data_mod
    from reference_model.training import TrainConfig, train_transformer
    from reference_model.transformer import with_text_refiner

    relations = data_mod.relation_captions(encoder, tokens, captions)
    model = with_text_refiner(transformer, args.relation_text_layers, config.text_encoder.max_length)
    for i, ((name, forms, everything), steps, lr) in enumerate(zip(RELATION_PHASES, args.relation_steps, args.relation_lr)):
        data = data_mod.relation_token_data(relations, forms, everything)
        train_config = TrainConfig(steps=steps, batch_size=args.batch_size, lr=lr, warmup=50, seed=args.seed + 2 + i,
                                   procs=args.procs)
        model = train_transformer(model.train(), data, train_config, args.work / "relations" / name)
    return model


def stage_binding(args, tokens: dict, captions: list[str], transformer):
    """--binding-steps more steps on every image plus the color_attr images --binding-extra more times:
    a fresh AdamW with 50 warm-up steps and cosine decay, batch stream seed + 10.

    Why: most color_attr failures of the relations-stage weights drew the two requested colours on the
    wrong objects (a swap; on the hold-out the swap turns a novel colour-shape pair into two seen
    ones); benchmarks/results/muse_binding_exploration.json has the analysis and the arms tried.
    """
    from recipes import muse_shapes_data as data_mod
    from reference_model.training import TrainConfig, train_transformer

    data = data_mod.binding_token_data(tokens, captions, args.binding_extra)
    train_config = TrainConfig(steps=args.binding_steps, batch_size=args.batch_size, lr=args.binding_lr, warmup=50,
                               seed=args.seed + 10, procs=args.procs)
    return train_transformer(transformer.train(), data, train_config, args.work / "binding")


def record_time(work: Path, stage: str, seconds: float) -> None:
    path = work / "timings.json"
    timings = json.loads(path.read_text()) if path.is_file() else {}
    timings[stage] = timings.get(stage, 0.0) + seconds
    path.write_text(json.dumps(timings, indent=2) + "\n")


def _finished(state_path: Path, steps: int) -> bool:
    """Whether a training stage's state file is at its last step (the stage has nothing left to do)."""
    if not state_path.is_file():
        return False
    return int(torch.load(state_path, map_location="cpu", weights_only=True)["step"]) >= steps


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command_line = sys.argv if argv is None else ["muse_shapes", *argv]
    torch.set_num_threads(args.threads)
    cores = os.cpu_count() or 1
    if args.procs * args.threads > cores:  # oversubscribed cores make every rank wait for the slowest
        print(f"muse_shapes: warning: --procs {args.procs} x --threads {args.threads} is more than this machine's "
              f"{cores} cores; training will be slower than with --procs {max(1, cores // args.threads)}", file=sys.stderr)
    from recipes import muse_shapes_data as data_mod
    from reference_model.text_encoder import FrozenTextEncoder

    config = model_config(args)
    check_same_config(args.work, config, args)
    last = STAGES.index(args.until)

    def timed(stage: str, fn, done: bool = False):
        """Run a stage; its wall time goes into timings.json unless its output was complete before
        (re-running a finished command, e.g. to package or re-evaluate, only reloads)."""
        t = time.perf_counter()
        out = fn()
        if not done:
            record_time(args.work, stage, time.perf_counter() - t)
        return out

    work = args.work

    data = timed("data", lambda: data_mod.render_training_set(work / "train_set.pt", args.images, args.seed, config.vq.image_size),
                 done=(work / "train_set.pt").is_file())
    if last < 1:
        return 0
    vq = timed("vq", lambda: stage_vq(args, config, data), done=_finished(work / "vq" / "vq_state.pt", args.vq_steps))
    if last < 2:
        return 0
    from recipes import muse_shapes_eval as eval_mod

    timed("ceiling", lambda: eval_mod.tokenizer_ceiling(vq, data, work / "ceiling.json", args.eval_prompts, args.holdout_prompts),
          done=(work / "ceiling.json").is_file())
    if last < 3:
        return 0
    encoder = FrozenTextEncoder(config.text_encoder)
    tokens_done = (work / "tokens.pt").is_file()
    tokens = timed("tokens", lambda: data_mod.build_token_data(work / "tokens.pt", vq, encoder, data), done=tokens_done)
    if args.converse_prob:  # recomputed on every run, counted with the tokens' first build only
        tokens = timed("tokens", lambda: data_mod.add_converse_captions(encoder, tokens, data["captions"]),
                       done=tokens_done)
    if last < 4:
        return 0
    curve = eval_mod.curve_evaluator(config, vq, encoder, args.curve_prompts) if args.eval_every else None
    transformer = timed("transformer", lambda: stage_transformer(args, config, tokens, curve),
                        done=_finished(work / "transformer" / "state.pt", args.steps))
    if last < 5:
        return 0
    if args.finetune_steps:
        transformer = timed("finetune", lambda: stage_finetune(args, tokens, transformer),
                            done=_finished(work / "finetune" / "state.pt", args.finetune_steps))
    if last < 6:
        return 0
    if args.relation_steps:
        from dataclasses import replace

        last_phase = work / "relations" / RELATION_PHASES[-1][0] / "state.pt"
        transformer = timed("relations", lambda: stage_relations(args, config, encoder, tokens, data["captions"], transformer),
                            done=_finished(last_phase, args.relation_steps[-1]))
        config = replace(config, transformer=transformer.config)
    if last < 7:
        return 0
    if args.binding_steps:
        transformer = timed("binding", lambda: stage_binding(args, tokens, data["captions"], transformer),
                            done=_finished(work / "binding" / "state.pt", args.binding_steps))
    if last < 8:
        return 0
    timed("eval", lambda: eval_mod.final_eval(config, vq, transformer, encoder, args.work / "metrics.json",
                                               args.eval_prompts, args.holdout_prompts))
    if last < 9:
        return 0
    from recipes import muse_shapes_card

    muse_shapes_card.package(args, config, vq, transformer, command_line)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except MusebenchError as exc:
        print(f"muse_shapes: error: {exc}", file=sys.stderr)
        sys.exit(2)
