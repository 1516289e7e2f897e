"""Helpers the distillers share: recording what a model's methods return,
turning raw pixels into a model's input, and picking the optimiser of a
part (student or augmenter)."""
from .model_inputs import flips_channels, normalise_raw_pixels
from .optim_parts import AUGMENTER, STUDENT, optim_part
from .recorders import record_output

__all__ = [
    'AUGMENTER', 'STUDENT', 'flips_channels', 'normalise_raw_pixels',
    'optim_part', 'record_output'
]
