"""Image loading that names the bad file, or skips it when told to."""
import contextlib
import logging

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mmtst.registry import TRANSFORMS


class CorruptImageError(RuntimeError):
    """An image of the dataset could not be read or decoded."""


@contextlib.contextmanager
def quiet_opencv():
    """Silence OpenCV's own log lines (e.g. "[ WARN:0@...] ... PNG input
    buffer is incomplete") while an image is decoded: a bad file gets one
    message, ours, which names it and the fix."""
    try:
        import cv2
        cv_logging = cv2.utils.logging
    except (ImportError, AttributeError):  # no OpenCV, or one without it
        yield
        return
    level = cv_logging.getLogLevel()
    cv_logging.setLogLevel(cv_logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv_logging.setLogLevel(level)


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
            with quiet_opencv():
                return super().transform(results)
        except Exception as err:  # the backend's or the decoder's error
            reason = str(err) or type(err).__name__
        if self.skip_corrupt:
            print_log(
                f'skipping unreadable image {path} ({reason})',
                logger='current',
                level=logging.WARNING)
            return None
        raise CorruptImageError(
            f'cannot read image {path} ({reason}). Replace or remove the '
            'file, or set skip_corrupt=True on the pipeline\'s '
            "dict(type='mmtst.LoadImageOrReport') to skip such images in "
            'training with a warning.')

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] +
                f', skip_corrupt={self.skip_corrupt})')
