"""What a scoring of the forget set costs (no gradients, eval mode, as
stage 5 scores after every update and decode_sets scores a set): one
utterance at a time, batches of equal length (the way before
exact_padding.py), and padded batches with exact masks of several sizes,
with the largest difference from one at a time (run from a recipe directory
after `./run.sh --stop_stage 4`):

    python bench/scoring_layout.py --forget_list data/forget_n50_s0
"""

import contextlib
import time

import torch
from model_parts import setup

from espnet2_unlearn import exact_padding
from espnet2_unlearn.model_calls import length_batches, logits_of, pad, padded_batches


def scored(model, speech, batches, exact):
    out = [None] * len(speech)
    with torch.no_grad(), (exact_padding.exact_masks(model) if exact else contextlib.nullcontext()):
        for b in batches:
            logits = logits_of(model, *pad([speech[i] for i in b]))
            for row, i in enumerate(b):
                out[i] = logits[row]
    return torch.stack(out)


def main():
    args, model, forget = setup(__doc__, repeats=(int, 5))
    speech, lengths = forget.speech, [s.shape[0] for s in forget.speech]
    layouts = [("one at a time", [[i] for i in range(len(speech))], False),
               ("equal lengths", length_batches(lengths, 20000), False)]
    layouts += [(f"padded, exact, <= {f} frames", padded_batches(lengths, f), True)
                for f in (600, 1200, 2400, 4800, 20000)]
    reference = scored(model, speech, layouts[0][1], False)
    print(f"| layout | batches | seconds per scoring of {len(speech)} utterances (median of {args.repeats}) "
          f"| largest logit difference from one at a time |\n|---|---|---|---|")
    for name, batches, exact in layouts:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            got = scored(model, speech, batches, exact)
            times.append(time.perf_counter() - t)
        print(f"| {name} | {len(batches)} | {sorted(times)[len(times) // 2]:.3f} | "
              f"{float((got - reference).abs().max()):.1e} |", flush=True)


if __name__ == "__main__":
    main()
