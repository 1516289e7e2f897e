from .base_distiller import BaseDistiller
from .classification_distiller import ClassificationDistiller

__all__ = ['BaseDistiller', 'ClassificationDistiller']
from .detection_distiller import DetectionDistiller  # noqa: E402

__all__ += ['DetectionDistiller']
from .segmentation_distiller import SegmentationDistiller  # noqa: E402

__all__ += ['SegmentationDistiller']
