# fmnist-limited: tst_auglr_sample (augmenter lr 0.5, every random choice
# drawn per sample) with the relaxed Bernoulli fed the logit of p
# (gate_input='logit', a named departure from the authors' code). On
# fmnist-limited-n25 the per-image policy drove the p of Invert and Cutout
# to about 0, yet with the authors' gate input an op with p = 0 still fires
# with probability sigmoid(0) = 0.5 whenever it is picked; with 'logit' it
# fires with probability p, so what the policy learned to avoid is avoided.
# Nothing else differs from tst_auglr_sample_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_auglr_sample_resnet20_resnet8_fmnist_limited.py'
model = dict(augmenter=dict(gate_input='logit'))
