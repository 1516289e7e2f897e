"""Data preprocessors, registered lazily (see mmtst.registry.LAZY_MODELS):
``grey_cls`` imports mmpretrain's models."""
