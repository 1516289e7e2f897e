# fmnist-limited: TST frozen at init (tst_frozen_...) with every random
# choice made per sample instead of per batch: one gate per sample
# (gate_granularity='sample'), a random magnitude sign per sample
# (magnitude_sign='random') and one Cutout position per sample
# (cutout_centre='sample'), all named departures from the authors' code.
# A diagnosis control: with the authors' per-batch draws all 128 images of
# a step get the same ops in the same direction, whereas RandAugment (which
# helps KD on 25 images per class) draws ops per image. If this run gains
# where tst_frozen does not, the per-batch sharing is what holds TST's op
# pool back as random augmentation. Nothing else differs from
# tst_frozen_resnet20_resnet8_fmnist_limited.py.
_base_ = './tst_frozen_resnet20_resnet8_fmnist_limited.py'
model = dict(
    augmenter=dict(
        gate_granularity='sample',
        magnitude_sign='random',
        cutout_centre='sample'))
