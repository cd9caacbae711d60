"""Colour-binding fine-tune arms from the shipped muse-shapes (issue 3, 2026-11-28), kept as run.

The failure analysis of the shipped weights: most color_attr failures draw the two requested colours
on the wrong objects (a swap), on val and on the hold-out (where the swap turns a novel colour-shape
pair into seen ones). Each arm fine-tunes the shipped transformer (text refiner included) on every
training image once plus the color_attr images `--extra` more times, then runs final_eval.
"""
import argparse, json, sys, time
from pathlib import Path

import torch

sys.path.insert(0, '/work/main')
from musebench.models.checkpoints import resolve_checkpoint
from musebench.shapes.captions import parse_caption
from musebench.train import muse_shapes_data as data_mod
from musebench.train.muse_shapes_eval import final_eval
from reference_model.pipeline import MusePipeline
from reference_model.training import TokenData, TrainConfig, train_transformer

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True); ap.add_argument('--steps', type=int, default=1000)
ap.add_argument('--lr', type=float, default=2e-4); ap.add_argument('--extra', type=int, default=2)
ap.add_argument('--categories', default='color_attr'); ap.add_argument('--seed', type=int, default=10)
a = ap.parse_args()
torch.set_num_threads(1)
p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
W = Path('/work/main/runs/muse-shapes-train'); out = Path('/work/main/runs/binding') / a.name
d = data_mod.load(W / 'train_set.pt'); t = data_mod.load(W / 'tokens.pt')
cats = set(a.categories.split(','))
rows = torch.tensor([i for i, c in enumerate(d['captions']) if parse_caption(c).category in cats])
tokens = torch.cat([t['tokens'], *[t['tokens'][rows]] * a.extra])
index = torch.cat([t['index'], *[t['index'][rows]] * a.extra])
data = TokenData(tokens=tokens, caption_index=index, text_hidden=t['hidden'], text_mask=t['mask'], empty_index=t['empty_index'])
print(f'{len(rows)} {a.categories} images x {a.extra} extra: {len(index)} rows', flush=True)
t0 = time.perf_counter()
model = train_transformer(p.transformer.train(), data, TrainConfig(steps=a.steps, batch_size=64, lr=a.lr, warmup=50, seed=a.seed), out)
train_s = time.perf_counter() - t0
metrics = final_eval(p.config, p.vq, model.eval(), p.text_encoder, out / 'metrics.json', 1200, 400)
print(json.dumps({'name': a.name, 'train_s': train_s, **metrics}), flush=True)
