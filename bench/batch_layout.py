"""What padding costs: one update's forward and backward on a batch of
forget utterances, padded as one batch, in pieces of similar length
(model_calls.logits_in_chunks, stage 5's way) and one utterance at a time
(run from a recipe directory after `./run.sh --stop_stage 4`):

    python bench/batch_layout.py --forget_list data/bench/forget_n50_s0
"""

import time

import torch
import torch.nn.functional as F
from model_parts import setup

from espnet2_unlearn.model_calls import logits_in_chunks, logits_of, pad


def main():
    args, model, forget = setup(__doc__, batch_size=(int, 32), repeats=(int, 6))
    params = [prm for prm in model.parameters() if prm.requires_grad]
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randperm(len(forget), generator=generator)[: args.batch_size].tolist()
               for _ in range(args.repeats)]
    layouts = [("padded batch", lambda s: logits_of(model, *pad(s)))]
    layouts += [(f"pieces of {c}", lambda s, c=c: logits_in_chunks(model, s, c)) for c in (16, 8, 4, 1)]
    print(f"| layout | seconds per forward and backward of {args.batch_size} utterances |\n|---|---|")
    for name, logits in layouts:
        t = time.perf_counter()
        for b in batches:
            loss = F.cross_entropy(logits([forget.speech[i] for i in b]), forget.labels[b])
            torch.autograd.grad(loss, params)
        print(f"| {name} | {(time.perf_counter() - t) / len(batches):.3f} |", flush=True)


if __name__ == "__main__":
    main()
