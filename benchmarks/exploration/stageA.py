import sys, json, time, argparse, torch, torch.nn.functional as F
from dataclasses import replace
from pathlib import Path
sys.path.insert(0, '/work/main'); sys.path.insert(0, __import__('os').path.dirname(__file__))
from order_gap import swapped
from musebench.models.checkpoints import resolve_checkpoint
from musebench.train import muse_shapes_data as data_mod
from musebench.shapes.captions import parse_caption, RELATION_PHRASES
from musebench.train.muse_shapes_data import subject_caption, INVERSE_RELATION
from reference_model.pipeline import MusePipeline
from reference_model.transformer import MaskedTransformer
from reference_model.training import TrainConfig, train_transformer, TokenData

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True); ap.add_argument('--steps', type=int, default=600)
ap.add_argument('--lr', type=float, default=5e-4); ap.add_argument('--text-layers', type=int, default=0)
ap.add_argument('--forms', default='canon,subject'); ap.add_argument('--start', default=None); ap.add_argument('--seed', type=int, default=3); ap.add_argument('--eval-every', type=int, default=100)
a = ap.parse_args()
torch.set_num_threads(1)
p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
cfg = replace(p.config.transformer, text_layers=a.text_layers, text_length=16 if a.text_layers else 0)
m = MaskedTransformer(cfg); m.load_state_dict(p.transformer.state_dict(), strict=False)
if a.start: m.load_state_dict(torch.load(a.start, weights_only=True)['model'])
W = Path('/work/main/runs/muse-shapes-train')
d = data_mod.load(W / 'train_set.pt'); t = data_mod.load(W / 'tokens.pt')
caps = d['captions']
conv = data_mod.add_converse_captions(p.text_encoder, t, caps)
subj = data_mod.add_subject_captions(p.text_encoder, {**t, 'hidden': conv['hidden'], 'mask': conv['mask'], 'unique': conv['unique']}, caps)
rel = [parse_caption(c).relation for c in caps]
pos = torch.tensor([i for i, r in enumerate(rel) if r])
flip = torch.tensor([r in ('right of', 'below') for r in rel])
canon_idx = torch.where(flip, conv['alt_index'], t['index'])
forms = {'canon': canon_idx, 'subject': subj['alt_index'], 'orig': t['index']}
rows_tok, rows_cap = [], []
for f in a.forms.split(','):
    rows_tok.append(t['tokens'][pos]); rows_cap.append(forms[f][pos])
data = TokenData(tokens=torch.cat(rows_tok), caption_index=torch.cat(rows_cap), text_hidden=subj['hidden'],
                 text_mask=subj['mask'], empty_index=t['empty_index'])
print('rows', data.tokens.shape[0], flush=True)
def inv_subj(c):
    s = parse_caption(c); ph = RELATION_PHRASES[s.relation]
    return subject_caption(c).replace(ph, RELATION_PHRASES[INVERSE_RELATION[s.relation]])
groups = {}
for g in [('left of', 'above'), ('right of', 'below')]:
    rows = [i for i, r in enumerate(rel) if r in g][:160]
    groups['/'.join(g)] = (t['tokens'][rows].long(), [caps[i] for i in rows])
log = []
def evaluate(model, step):
    model.eval(); r = {}
    for g, (tgt, tr) in groups.items():
        ids = torch.full_like(tgt, model.config.mask_id)
        def loss(texts):
            h, mk = p.text_encoder(texts)
            with torch.no_grad():
                return F.cross_entropy(model(ids, model.text_context(h, mk)).flatten(0, 1), tgt.flatten()).item()
        base = loss(tr)
        r[g + ' swap'] = round(loss([swapped(c) for c in tr]) - base, 4)
        sb = loss([subject_caption(c) for c in tr])
        r[g + ' subj_inv'] = round(loss([inv_subj(c) for c in tr]) - sb, 4)
    log.append({'step': step, **r}); print('EVAL', step, json.dumps(r), flush=True)
    return r
evaluate(m, 0)
out = Path(f'/work/main/runs/stageA-{a.name}')
config = TrainConfig(steps=a.steps, lr=a.lr, warmup=50, seed=a.seed, eval_every=a.eval_every)
train_transformer(m.train(), data, config, out, evaluate)
json.dump(log, open(out / 'gap.json', 'w'), indent=1)
