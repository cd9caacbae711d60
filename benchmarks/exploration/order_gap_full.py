import sys, torch, torch.nn.functional as F
sys.path.insert(0, '/work/main'); sys.path.insert(0, __import__('os').path.dirname(__file__))
from order_gap import swapped
from musebench.shapes.captions import parse_caption
def gap_full(transformer, encoder, tokens, captions, n=256):
    rows = [i for i, c in enumerate(captions) if parse_caption(c).category == 'position'][:n]
    tgt = tokens[rows].long()
    true = [captions[i] for i in rows]; sw = [swapped(c) for c in true]
    ids = torch.full_like(tgt, transformer.config.mask_id)
    out = {}
    for name, texts in [('true', true), ('swapped', sw)]:
        h, m = encoder(texts)
        with torch.no_grad():
            logits = transformer(ids, transformer.text_context(h, m))
        out[name] = F.cross_entropy(logits.flatten(0, 1), tgt.flatten()).item()
    out['gap'] = out['swapped'] - out['true']
    return out
if __name__ == '__main__':
    torch.set_num_threads(1)
    from musebench.models.checkpoints import resolve_checkpoint
    from reference_model.pipeline import MusePipeline
    p = MusePipeline.from_dir(resolve_checkpoint('muse-shapes'))
    d = torch.load('/work/main/runs/muse-shapes-train/train_set.pt', weights_only=False)
    t = torch.load('/work/main/runs/muse-shapes-train/tokens.pt', weights_only=False)
    print(gap_full(p.transformer, p.text_encoder, t['tokens'], d['captions']))
