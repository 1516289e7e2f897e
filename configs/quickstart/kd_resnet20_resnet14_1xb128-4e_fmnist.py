# A new pair is a few lines: the same teacher, a ResNet-14 student.
_base_ = './kd_resnet20_resnet8_1xb128-4e_fmnist.py'
model = dict(student=dict(backbone=dict(arch='resnet14')))
