# Quick start, step 1: train the teacher (ResNet-20) on Fashion-MNIST.
_base_ = [
    '../_base_/models/fmnist_classifiers.py',
    '../_base_/datasets/fashion_mnist.py',
    '../_base_/schedules/fmnist_short.py',
    '../_base_/default_runtime.py',
]
model = {{_base_.fmnist_teacher}}
