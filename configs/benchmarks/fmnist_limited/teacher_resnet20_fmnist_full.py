# The fmnist-limited set's teacher: ResNet-20 on ALL 60k Fashion-MNIST
# training images (the students see a small subset), the quick start's
# recipe and length (4 epochs; 92.25% top-1 in the quick start), without
# loader workers (one core per run when two runs share the machine).
_base_ = '../../quickstart/resnet20_1xb128-4e_fmnist.py'
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
