"""The initialisation of CRD's CIFAR networks (RepDistiller, whose models
TST's CIFAR-100 pairs use), as an mmengine ``init_cfg``: every conv
``N(0, sqrt(2 / (k * k * C_out)))`` -- Kaiming normal in fan-out mode,
depthwise convs included -- with zero biases, every batch norm weight 1
and bias 0. Applied when the model's ``init_weights()`` runs (mmengine's
Runner calls it after building the model), as any OpenMMLab backbone's
default initialisation is."""

CRD_INIT_CFG = [
    dict(
        type='Kaiming',
        layer='Conv2d',
        mode='fan_out',
        nonlinearity='relu',
        distribution='normal',
        bias=0.),
    dict(type='Constant', layer='BatchNorm2d', val=1., bias=0.),
]
