# fmnist-limited: tst_auglr (TST with augmenter lr 0.5) with every random
# choice made per sample, as in tst_frozen_sample_...: one gate, one
# magnitude sign and one Cutout position per sample (named departures
# from the authors' per-batch draws). The learned counterpart of that
# frozen control: the pair tells whether learning p and m adds anything
# once the augmentation is drawn per image. Nothing else differs from
# tst_auglr_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_auglr_resnet20_resnet8_fmnist_limited.py'
model = dict(
    augmenter=dict(
        gate_granularity='sample',
        magnitude_sign='random',
        cutout_centre='sample'))
