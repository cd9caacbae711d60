import sys, json, time, argparse, torch, torch.nn.functional as F
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, '/work/main'); sys.path.insert(0, __import__('os').path.dirname(__file__))
from order_gap import swapped
from musebench.models.checkpoints import resolve_checkpoint
from musebench.train import muse_shapes_data as data_mod
from musebench.train.muse_shapes_eval import final_eval
from musebench.shapes.captions import parse_caption
from reference_model.pipeline import MusePipeline
from reference_model.transformer import MaskedTransformer
from reference_model.training import TrainConfig, train_transformer

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True); ap.add_argument('--start', default=None)
ap.add_argument('--steps', type=int, default=1000)
ap.add_argument('--lr', type=float, default=2e-4); ap.add_argument('--text-layers', type=int, default=0)
ap.add_argument('--canon-prob', type=float, default=0.0); ap.add_argument('--eval-every', type=int, default=250)
ap.add_argument('--eval-prompts', type=int, default=600); ap.add_argument('--holdout-prompts', type=int, default=200)
ap.add_argument('--seed', type=int, default=2); ap.add_argument('--alt', choices=['canon','subject'], default='canon')
a = ap.parse_args()
torch.set_num_threads(1)
p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
cfg = replace(p.config.transformer, text_layers=a.text_layers, text_length=p.config.text_encoder.max_length if a.text_layers else 0)
m = MaskedTransformer(cfg); m.load_state_dict(p.transformer.state_dict(), strict=False)
if a.start:
    m.load_state_dict(torch.load(a.start, weights_only=True)['model'])
W = Path('/work/main/runs/muse-shapes-train')
d = data_mod.load(W / 'train_set.pt'); t = data_mod.load(W / 'tokens.pt')
caps = d['captions']
rel = [parse_caption(c).relation for c in caps]
if a.alt == 'canon':
    t = data_mod.canonical_alternatives(data_mod.add_converse_captions(p.text_encoder, t, caps), caps)
elif a.alt == 'subject':
    t = data_mod.add_subject_captions(p.text_encoder, t, caps)
data = data_mod.token_data(t)
pos_rows = [i for i, r in enumerate(rel) if r is not None]
ev_rows = pos_rows[:256]
tgt = t['tokens'][ev_rows].long()
def full_loss(model, texts):
    h, mk = p.text_encoder(texts)
    ids = torch.full_like(tgt, model.config.mask_id)
    with torch.no_grad():
        return F.cross_entropy(model(ids, model.text_context(h, mk)).flatten(0, 1), tgt.flatten()).item()
orig = [caps[i] for i in ev_rows]
log = []
def evaluate(model, step):
    model.eval()
    r = {'orig_true': full_loss(model, orig)}
    r['orig_swap_gap'] = full_loss(model, [swapped(c) for c in orig]) - r['orig_true']
    log.append({'step': step, **r}); print('EVAL', step, json.dumps(r), flush=True)
    return r
evaluate(m, 0)
out = Path(f'/work/main/runs/phase2-{a.name}')
config = TrainConfig(steps=a.steps, lr=a.lr, warmup=50, seed=a.seed, eval_every=a.eval_every, alt_caption_prob=a.canon_prob)
print('alt images', int((t['alt_index'] >= 0).sum()), flush=True)
t0 = time.time()
train_transformer(m.train(), data, config, out, evaluate)
tw = time.time() - t0
met = final_eval(p.config, p.vq, m.eval(), p.text_encoder, out / 'metrics.json', a.eval_prompts, a.holdout_prompts)
json.dump({'args': vars(a), 'train_s': tw, 'gap': log, 'eval': met}, open(out / 'result.json', 'w'), indent=1)
print('VAL', json.dumps(met['val']), '\nHOLD', json.dumps(met.get('holdout')))
