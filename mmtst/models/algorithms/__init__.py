"""Distillers. The detection / segmentation ones are imported on first
access (they need the full profile, see mmtst.utils.profiles)."""
from mmtst.utils.profiles import lazy_getattr
from .base_distiller import BaseDistiller
from .classification_distiller import ClassificationDistiller

# attribute -> module defining it, imported on first access
LAZY = {
    'DetectionDistiller': '.detection_distiller',
    'SegmentationDistiller': '.segmentation_distiller',
    'GeometricTaskDistiller': '.geometric_task_distiller',
}
__getattr__ = lazy_getattr(
    __name__,
    LAZY,
    full_profile=('DetectionDistiller', 'SegmentationDistiller'))

# eager names only: `from .algorithms import *` must not import the lazy ones
__all__ = ['BaseDistiller', 'ClassificationDistiller']
