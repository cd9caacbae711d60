"""Order sensitivity: masked-token loss on position images with the true caption vs the caption with
the two objects swapped (same relation: the wrong picture). Gap ~0 => the model ignores order."""
import sys, torch, torch.nn.functional as F
from dataclasses import replace
sys.path.insert(0, '/work/main')
torch.set_num_threads(1)
from musebench.models.checkpoints import resolve_checkpoint
from reference_model.pipeline import MusePipeline
from musebench.shapes.captions import parse_caption, caption, TEMPLATES
from reference_model.masking import random_mask

def swapped(text):
    s = parse_caption(text)
    v = next(v for v in range(len(TEMPLATES[s.category])) if caption(s, v) == text)
    return caption(replace(s, objects=s.objects[::-1]), v)

def gap(transformer, encoder, tokens, captions, n=512, reps=4):
    rows = [i for i, c in enumerate(captions) if parse_caption(c).category == 'position'][:n]
    tgt = tokens[rows].long()
    true = [captions[i] for i in rows]; sw = [swapped(c) for c in true]
    out = {}
    for name, texts in [('true', true), ('swapped', sw)]:
        h, m = encoder(texts)
        tot = 0.0
        for r in range(reps):
            g = torch.Generator().manual_seed(r)
            ids, mask = random_mask(tgt, transformer.config.mask_id, g)
            with torch.no_grad():
                logits = transformer(ids, transformer.text_context(h, m))
            tot += F.cross_entropy(logits[mask], tgt[mask]).item()
        out[name] = tot / reps
    out['gap'] = out['swapped'] - out['true']
    return out

if __name__ == '__main__':
    ck = sys.argv[1] if len(sys.argv) > 1 else 'muse-shapes'
    p = MusePipeline.from_dir(resolve_checkpoint(ck))
    d = torch.load('/work/main/runs/muse-shapes-train/train_set.pt', weights_only=False)
    t = torch.load('/work/main/runs/muse-shapes-train/tokens.pt', weights_only=False)
    print(gap(p.transformer, p.text_encoder, t['tokens'], d['captions']))
