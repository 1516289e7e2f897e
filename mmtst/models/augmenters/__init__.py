from .learnable_policy import SHIPPED_OP_NETS, LearnableAugmentPolicy
from .op_specs import ALL_OPS, MAGNITUDE_OPS, OP_SPECS, OpSpec, check_op_names

__all__ = [
    'ALL_OPS', 'MAGNITUDE_OPS', 'OP_SPECS', 'OpSpec', 'check_op_names',
    'LearnableAugmentPolicy', 'SHIPPED_OP_NETS'
]
