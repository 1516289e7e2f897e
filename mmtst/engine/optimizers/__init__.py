from .alrs import ALRS
from .distiller_optim_constructor import DistillerOptimWrapperConstructor

__all__ = ['ALRS', 'DistillerOptimWrapperConstructor']
