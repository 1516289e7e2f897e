# fmnist-limited: tst_gatelogit (gate_input='logit', augmenter lr 0.5) with
# one gate per sample (gate_granularity='sample', a named departure from the
# authors' one gate per picked op per batch). With one gate per batch an
# augmenter step sees a single draw of each picked op, so the gradient that
# reaches p is one noisy sample, and at lr 0.5 the first few such steps
# already drove p to 0 or 1 where sigmoid's gradient vanishes (the patient
# run's seed 4 locked Invert on). With a gate per sample the step averages
# the gradient over the batch's 128 draws: the same expected direction, far
# less noise. Nothing else differs from
# tst_gatelogit_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_gatelogit_resnet20_resnet8_fmnist_limited.py'
model = dict(augmenter=dict(gate_granularity='sample'))
