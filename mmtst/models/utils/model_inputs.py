"""Raw pixels -> a detector's or segmenter's normalised input.

The detection and segmentation distillers keep the batch as raw padded
pixels (the augmenter works on them) and normalise it for each model as
that model's own data preprocessor would. They cannot call the
preprocessor itself, as the classification distiller does: mmdet's and
mmseg's preprocessors also pad and stack, which the batch already is. So
these helpers read the preprocessor's settings: its ``mean`` / ``std``
buffers (registered only when it normalises) and its channel flag.
"""
from torch import Tensor, nn


def flips_channels(pre: nn.Module) -> bool:
    """Whether a data preprocessor converts BGR <-> RGB. mmseg names the
    flag ``channel_conversion``; mmengine's ``ImgDataPreprocessor`` (and so
    mmdet's) keeps it as ``_channel_conversion``, with no public form."""
    return bool(
        getattr(pre, 'channel_conversion', False)
        or getattr(pre, '_channel_conversion', False))


def normalise_raw_pixels(pre: nn.Module, pixels: Tensor) -> Tensor:
    """What ``pre`` makes of raw pixels (0..255, as loaded) apart from
    padding: the channel flip (3-channel batches) and ``(x - mean) /
    std`` when it normalises."""
    x = pixels
    if flips_channels(pre) and x.size(1) == 3:
        x = x[:, [2, 1, 0]]
    mean = getattr(pre, 'mean', None)
    if mean is not None:
        x = (x - mean) / pre.std
    return x
