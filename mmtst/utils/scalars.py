"""Plain numbers from logged values."""
from typing import Union

import torch


def to_float(value: Union[torch.Tensor, float, int]) -> float:
    """A logged loss (a tensor that may still carry its graph, or a number)
    as a Python float, without torch's "converting a tensor with
    requires_grad=True to a scalar" warning."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
    return float(value)
