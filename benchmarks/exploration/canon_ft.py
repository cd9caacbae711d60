import sys, json, time, argparse, torch, torch.nn.functional as F
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, '/work/main'); sys.path.insert(0, __import__('os').path.dirname(__file__))
from order_gap import swapped
from musebench.models.checkpoints import resolve_checkpoint
from musebench.train import muse_shapes_data as data_mod
from musebench.shapes.captions import parse_caption
from reference_model.pipeline import MusePipeline
from reference_model.transformer import MaskedTransformer
from reference_model.training import TrainConfig, train_transformer

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True); ap.add_argument('--steps', type=int, default=600)
ap.add_argument('--lr', type=float, default=5e-4); ap.add_argument('--text-layers', type=int, default=0)
ap.add_argument('--position-only', action='store_true'); ap.add_argument('--canonical', action='store_true')
ap.add_argument('--eval-every', type=int, default=100)
a = ap.parse_args()
torch.set_num_threads(1)
p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
cfg = replace(p.config.transformer, text_layers=a.text_layers, text_length=p.config.text_encoder.max_length if a.text_layers else 0)
m = MaskedTransformer(cfg); m.load_state_dict(p.transformer.state_dict(), strict=False)
W = Path('/work/main/runs/muse-shapes-train')
d = data_mod.load(W / 'train_set.pt'); t = data_mod.load(W / 'tokens.pt')
caps = d['captions']
t = data_mod.add_converse_captions(p.text_encoder, t, caps)
rel = [parse_caption(c).relation for c in caps]
index = t['index'].clone()
if a.canonical:
    flip = torch.tensor([r in ('right of', 'below') for r in rel])
    index = torch.where(flip, t['alt_index'], index)
t = {**t, 'index': index}
data = data_mod.token_data(t)
pos_rows = [i for i, r in enumerate(rel) if r is not None]
if a.position_only:
    rows = torch.tensor(pos_rows)
    data = replace(data, tokens=data.tokens[rows], caption_index=data.caption_index[rows])
ev_rows = pos_rows[:256]
tgt = t['tokens'][ev_rows].long()
def full_loss(model, texts):
    h, mk = p.text_encoder(texts)
    ids = torch.full_like(tgt, model.config.mask_id)
    with torch.no_grad():
        return F.cross_entropy(model(ids, model.text_context(h, mk)).flatten(0, 1), tgt.flatten()).item()
def canon(c):
    return t['unique'][t['alt_index'][caps.index(c)]] if parse_caption(c).relation in ('right of', 'below') else c
orig = [caps[i] for i in ev_rows]
can = [canon(c) for c in orig]
from order_gap_full import gap_full
log = []
def evaluate(model, step):
    model.eval()
    r = {'orig_true': full_loss(model, orig)}
    r['orig_swap_gap'] = full_loss(model, [swapped(c) for c in orig]) - r['orig_true']
    r['canon_true'] = full_loss(model, can)
    r['canon_swap_gap'] = full_loss(model, [swapped(c) for c in can]) - r['canon_true']
    log.append({'step': step, **r}); print('EVAL', step, json.dumps(r), flush=True)
    return r
evaluate(m, 0)
config = TrainConfig(steps=a.steps, lr=a.lr, warmup=50, seed=1, eval_every=a.eval_every)
out = Path(f'/work/main/runs/canon-{a.name}')
train_transformer(m.train(), data, config, out, evaluate)
json.dump(log, open(out / 'gap.json', 'w'), indent=1)
