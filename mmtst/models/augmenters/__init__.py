from .learnable_policy import LearnableAugmentPolicy
from .op_net_checkpoint import SHIPPED_OP_NETS
from .op_specs import ALL_OPS, MAGNITUDE_OPS, OP_SPECS, OpSpec, check_op_names

__all__ = [
    'ALL_OPS', 'MAGNITUDE_OPS', 'OP_SPECS', 'OpSpec', 'check_op_names',
    'LearnableAugmentPolicy', 'SHIPPED_OP_NETS'
]
