from .base_distiller import BaseDistiller
from .classification_distiller import ClassificationDistiller

__all__ = ['BaseDistiller', 'ClassificationDistiller']
