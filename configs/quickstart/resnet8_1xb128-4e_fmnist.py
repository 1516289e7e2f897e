# Quick start, baseline: the student (ResNet-8) trained alone.
_base_ = [
    '../_base_/models/fmnist_classifiers.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/fmnist_short.py',
    '../_base_/default_runtime.py',
]
model = {{_base_.fmnist_student}}
