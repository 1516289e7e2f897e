"""mmtst: data-based knowledge distillation for OpenMMLab (TST and FunMatch)."""
from .version import __version__

__all__ = ['__version__']
