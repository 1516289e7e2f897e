# fmnist-limited: tst_gatelogit (gate_input='logit', augmenter lr 0.5) with
# p's logit kept in [-2, 2] (probability_logit_bound=2, beyond the paper):
# every op fires in 12-88% of batches. In the patient runs with free logits
# an op's p went to 0 or 1 within the few steps in which it was picked and
# stayed there, where sigmoid's gradient vanishes (seed 4 locked Invert
# fully on). Projected back onto [-2, 2] before every draw, p keeps a
# gradient of at least sigmoid'(2) = 0.10, so a later phase can undo what
# the first noisy steps chose. Nothing else differs from
# tst_gatelogit_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_gatelogit_resnet20_resnet8_fmnist_limited.py'
model = dict(augmenter=dict(probability_logit_bound=2.0))
