# TST (Shao et al., IJCAI 2023) with DeepLabV3 on Cityscapes 512x1024, 80k
# iterations: DeepLabV3-R101-d8 -> DeepLabV3-R18-d8, the paper's PSPNet
# recipe (pixel-wise KL tau 1: decode head 1.5, auxiliary head 0.5;
# augmenter phases at passes 0, 6, 12).
_base_ = ['./tst_pspnet_r101_pspnet_r18_4xb2-80k_cityscapes-512x1024.py']
model = dict(
    teacher=
    'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    student='mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    # mmseg's model zoo checkpoint of that teacher (mmseg's metafile.yaml, 80.20 mIoU):
    # https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/
    #   deeplabv3_r101-d8_512x1024_80k_cityscapes/
    #   deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth
    teacher_ckpt='checkpoints/deeplabv3_r101-d8_512x1024_80k_cityscapes.pth')
