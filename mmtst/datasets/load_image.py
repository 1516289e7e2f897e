"""Image loading that names the bad file, or skips it when told to."""
import logging

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mmtst.registry import TRANSFORMS


class CorruptImageError(RuntimeError):
    """An image of the dataset could not be read or decoded."""


@TRANSFORMS.register_module()
class LoadImageOrReport(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with a clear answer to a bad image.

    mmcv raises whatever the file backend or the decoder raised (or an
    ``AssertionError``) from inside a loader worker. This transform raises
    :class:`CorruptImageError` naming the file and the fix, or, with
    ``skip_corrupt=True``, logs a warning naming the file and returns
    ``None``, which mmengine's datasets answer by drawing another sample
    (training only: a test-mode dataset refuses ``None``, since skipping an
    image would change what the metric measures).

    Args:
        skip_corrupt: Skip unreadable images with a warning instead of
            stopping. Defaults to False.
        **kwargs: ``LoadImageFromFile``'s arguments (``ignore_empty`` is
            replaced by ``skip_corrupt``).
    """

    def __init__(self, skip_corrupt: bool = False, **kwargs) -> None:
        if kwargs.pop('ignore_empty', False):
            skip_corrupt = True
        super().__init__(**kwargs)
        self.skip_corrupt = skip_corrupt

    def transform(self, results: dict):
        path = results.get('img_path')
        try:
            return super().transform(results)
        except Exception as err:  # the backend's or the decoder's error
            reason = str(err) or type(err).__name__
        if self.skip_corrupt:
            print_log(f'skipping unreadable image {path} ({reason})',
                      logger='current', level=logging.WARNING)
            return None
        raise CorruptImageError(
            f'cannot read image {path} ({reason}). Replace or remove the '
            'file, or set skip_corrupt=True on the pipeline\'s '
            "dict(type='mmtst.LoadImageOrReport') to skip such images in "
            'training with a warning.')

    def __repr__(self) -> str:
        return (super().__repr__()[:-1]
                + f', skip_corrupt={self.skip_corrupt})')
