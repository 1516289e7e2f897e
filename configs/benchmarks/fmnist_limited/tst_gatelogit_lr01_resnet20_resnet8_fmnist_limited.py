# fmnist-limited: tst_gatelogit (gate_input='logit') with the augmenter's
# SGD lr at 0.1 instead of 0.5. With gate_input='logit' and lr 0.5 an op's
# p went to 0 or 1 within the few steps in which it was picked and stayed
# there (sigmoid's gradient vanishes), so the first noisy steps decided
# which ops stay on (the README's patient-run reading). A smaller step lets
# the objective, rather than those first steps, choose. Nothing else
# differs from tst_gatelogit_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_gatelogit_resnet20_resnet8_fmnist_limited.py'
optim_wrapper = dict(augmenter=dict(optimizer=dict(lr=0.1)))
