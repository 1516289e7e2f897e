# fmnist-limited: TST with augmenter lr 0.5 (tst_auglr) and the relaxed
# Bernoulli fed the logit of p (gate_input='logit', a named departure from
# the authors' code). With the authors' gate_input='probability' the gate's
# logit is p itself, so an op fires with probability sigmoid(p), never below
# 0.5 even at p = 0: the policy cannot switch off the ops the diagnosis found
# harmful on Fashion-MNIST (Invert, Cutout, large warps). With 'logit' it
# fires with probability p (0.5 at init, as low as the policy learns).
# Nothing else differs from tst_auglr_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_auglr_resnet20_resnet8_fmnist_limited.py'
model = dict(augmenter=dict(gate_input='logit'))
