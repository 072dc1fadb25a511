"""How few PGD steps keep the attack: time, attack success rate and largest
distance (in adv_clip units) of the adversarial examples of a forget set
for several numbers of steps S and step sizes, at the default K and adv_clip
(run from a recipe directory after `./run.sh --stop_stage 4`):

    python bench/pgd_steps.py --forget_list data/bench/forget_n50_s0
"""

import time

from model_parts import setup

from espnet2_unlearn.unlearn.adversarial import make_adversarial_set, max_distance

SETTINGS = ((10, 0.04), (6, 0.07), (5, 0.08), (4, 0.1), (3, 0.1))  # (S, step size in std units)


def main():
    args, model, forget = setup(__doc__, adv_num=(int, 2), adv_clip=(float, 0.2))
    for prm in model.parameters():
        prm.requires_grad_(False)
    print(f"| S | step size | seconds | attack success | max distance (clip units) |\n|---|---|---|---|---|")
    num_classes = len(model.token_list) - 1  # the last token is <unk>
    for steps, step_size in SETTINGS:
        t = time.perf_counter()
        adv = make_adversarial_set(model, forget, range(num_classes), args.adv_num, args.adv_clip, step_size, steps, seed=0)
        seconds = time.perf_counter() - t
        print(f"| {steps} | {step_size} | {seconds:.2f} | {adv.success_rate:.3f} | {max_distance(model, adv, forget)[1]:.3f} |",
              flush=True)


if __name__ == "__main__":
    main()
