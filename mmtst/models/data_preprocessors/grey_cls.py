"""mmpretrain's ``ClsDataPreprocessor`` for 1-channel (grey) classifiers that
also takes colour input, as the native inferencers give."""
from typing import Sequence, Union

import torch
from mmpretrain.models import ClsDataPreprocessor

from mmtst.registry import MODELS

# ITU-R BT.601 luma, in the BGR order of mmcv.imread (cv2's BGR2GRAY)
_BGR_WEIGHTS = (0.114, 0.587, 0.299)


def to_grey(img: torch.Tensor, rgb: bool = False) -> torch.Tensor:
    """(..., 3, H, W) -> (..., 1, H, W) luma; other inputs are returned
    unchanged. An integer input is rounded back to its dtype, so three equal
    channels (a grey image read in colour) give back exactly that grey."""
    if img.dim() < 3 or img.shape[-3] != 3:
        return img
    weights = _BGR_WEIGHTS[::-1] if rgb else _BGR_WEIGHTS
    weight = img.new_tensor(weights, dtype=torch.float32).view(3, 1, 1)
    grey = (img.float() * weight).sum(dim=-3, keepdim=True)
    if not img.is_floating_point():
        grey = grey.round().clamp(
            torch.iinfo(img.dtype).min,
            torch.iinfo(img.dtype).max)
    return grey.to(img.dtype)


@MODELS.register_module()
class GreyClsDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` of a grey (1-channel) classifier that converts
    3-channel input to grey first.

    mmpretrain's ``ImageClassificationInferencer`` (and ``inference_model``)
    read files with ``mmcv.imread`` in colour whatever the config's loader
    says, so a model with ``in_channels=1`` gets 3 channels. This
    preprocessor turns those into luma (BGR order, as mmcv reads; RGB with
    ``input_rgb=True``) before the parent's normalisation; 1-channel input
    passes through unchanged. ``tools/model_converters/export_student.py``
    writes it into the exported config of a grey classifier.

    Args:
        input_rgb: The colour input is RGB rather than BGR. Defaults to
            False.
        **kwargs: ``ClsDataPreprocessor``'s arguments (one-value ``mean``
            and ``std``).
    """

    def __init__(self, input_rgb: bool = False, **kwargs) -> None:
        if kwargs.get('to_rgb'):
            raise ValueError('a grey classifier has no channels to swap: '
                             'to_rgb must be False')
        super().__init__(**kwargs)
        self.input_rgb = input_rgb

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs: Union[torch.Tensor, Sequence[torch.Tensor]] = data['inputs']
        if isinstance(inputs, torch.Tensor):
            inputs = to_grey(inputs, self.input_rgb)
        else:
            inputs = [to_grey(img, self.input_rgb) for img in inputs]
        return super().forward(dict(data, inputs=inputs), training)
