# fmnist-limited: the ResNet-8 student alone (cross-entropy), same recipe.
_base_ = './_base_fmnist_limited.py'
