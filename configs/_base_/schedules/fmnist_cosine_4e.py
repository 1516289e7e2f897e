# The Fashion-MNIST schedule shape, written once: 4 epochs, a one-epoch
# linear warm-up (from 10% of the lr) then a cosine decay, both stepped per
# iteration, validation after every epoch. fmnist_short.py adds the quick
# start's SGD; the FunMatch configs (configs/funmatch/fmnist) their Adam
# and a warm-up from 1%.
max_epochs = 4
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
