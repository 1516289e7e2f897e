# fmnist-limited: TST made cheap (beyond the paper): augmented samples
# replace half of each batch (tst_mode='replace') and one augmenter step
# runs every 8 student iterations (here: once per epoch) instead of phases.
_base_ = './_base_tst_fmnist_limited.py'
model = dict(tst_mode='replace')
train_cfg = dict(phases_at_epochs=[], interleave_interval=8)
