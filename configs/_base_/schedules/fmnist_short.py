# A short CPU schedule for the Fashion-MNIST quick start: the 4-epoch
# warm-up + cosine schedule (fmnist_cosine_4e.py) with SGD (lr 0.1,
# nesterov) for batch 128.
_base_ = ['./fmnist_cosine_4e.py']
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True))
auto_scale_lr = dict(base_batch_size=128)
