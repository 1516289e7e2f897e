from .base_distiller import BaseDistiller
from .classification_distiller import ClassificationDistiller
from .detection_distiller import DetectionDistiller
from .segmentation_distiller import SegmentationDistiller
from .structured_distiller import StructuredDistiller

__all__ = [
    'BaseDistiller', 'ClassificationDistiller', 'DetectionDistiller',
    'SegmentationDistiller', 'StructuredDistiller'
]
