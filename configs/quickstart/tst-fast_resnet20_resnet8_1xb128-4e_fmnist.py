# TST made cheap (beyond the paper): augmented samples replace half of each
# batch instead of doubling it (tst_mode='replace'), and instead of whole
# augmenter passes one augmenter step runs after every 8 student iterations
# (interleave_interval=8). Aimed at <= 1.3x the wall-clock of KD.
_base_ = './tst_resnet20_resnet8_1xb128-4e_fmnist.py'
model = dict(tst_mode='replace')
train_cfg = dict(phases_at_epochs=[], interleave_interval=8)
