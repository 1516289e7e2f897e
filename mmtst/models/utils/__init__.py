"""Helpers the distillers share: recording what a model's methods return,
and turning raw pixels into a model's input."""
from .model_inputs import flips_channels, normalise_raw_pixels
from .recorders import record_output

__all__ = ['flips_channels', 'normalise_raw_pixels', 'record_output']
