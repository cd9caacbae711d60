import sys, json, time, argparse, torch
from dataclasses import replace
sys.path.insert(0, '/work/main'); sys.path.insert(0, __import__('os').path.dirname(__file__))
from order_gap import gap
from musebench.models.checkpoints import resolve_checkpoint
from musebench.train import muse_shapes_data as data_mod
from musebench.shapes.captions import parse_caption
from reference_model.pipeline import MusePipeline
from reference_model.transformer import MaskedTransformer
from reference_model.training import TrainConfig, train_transformer, TokenData

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True); ap.add_argument('--steps', type=int, default=800)
ap.add_argument('--lr', type=float, default=5e-4); ap.add_argument('--text-layers', type=int, default=2)
ap.add_argument('--position-only', action='store_true'); ap.add_argument('--eval-every', type=int, default=200)
a = ap.parse_args()
torch.set_num_threads(1)
p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
cfg = replace(p.config.transformer, text_layers=a.text_layers, text_length=p.config.text_encoder.max_length)
m = MaskedTransformer(cfg)
missing, unexpected = m.load_state_dict(p.transformer.state_dict(), strict=False)
print('new params', missing, unexpected)
d = data_mod.load(__import__('pathlib').Path('/work/main/runs/muse-shapes-train/train_set.pt'))
t = data_mod.load(__import__('pathlib').Path('/work/main/runs/muse-shapes-train/tokens.pt'))
data = data_mod.token_data(t)
if a.position_only:
    rows = torch.tensor([i for i, c in enumerate(d['captions']) if parse_caption(c).category == 'position'])
    data = replace(data, tokens=data.tokens[rows], caption_index=data.caption_index[rows])
log = []
def evaluate(model, step):
    r = gap(model, p.text_encoder, t['tokens'], d['captions'], n=256, reps=2)
    log.append({'step': step, **r}); print(step, r, flush=True)
    return r
evaluate(m.eval(), 0)
config = TrainConfig(steps=a.steps, lr=a.lr, warmup=50, seed=1, eval_every=a.eval_every)
t0 = time.time()
train_transformer(m.train(), data, config, __import__('pathlib').Path(f'/work/main/runs/refiner-{a.name}'), evaluate)
print('wall', time.time() - t0)
json.dump(log, open(f'/work/main/runs/refiner-{a.name}/gap.json', 'w'), indent=1)
