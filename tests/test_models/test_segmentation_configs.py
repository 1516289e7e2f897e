"""The Cityscapes TST configs (Shao et al., IJCAI 2023) inherit mmseg's
own configs and carry the paper's settings; the scenes pair builds."""
import pytest
from conftest import REPO
from mmengine.config import Config

CITYSCAPES = {
    'pspnet':
    'configs/tst/cityscapes/'
    'tst_pspnet_r101_pspnet_r18_4xb2-80k_cityscapes-512x1024.py',
    'deeplabv3':
    'configs/tst/cityscapes/'
    'tst_deeplabv3_r101_deeplabv3_r18_4xb2-80k_cityscapes-512x1024.py',
}


@pytest.mark.parametrize('arch', sorted(CITYSCAPES))
def test_cityscapes_configs_follow_the_paper(arch):
    cfg = Config.fromfile(f'{REPO}/{CITYSCAPES[arch]}')
    model = cfg.model
    assert model.type == 'mmtst.SegmentationDistiller'
    assert model.teacher == (f'mmseg::{arch}/{arch}_r101-d8_4xb2-80k_'
                             'cityscapes-512x1024.py')
    assert model.student.startswith(f'mmseg::{arch}/{arch}_r18-d8')
    assert model.decode_weight == 1.5 and model.aux_weight == 0.5
    assert model.distill_loss.tau == 1.0
    assert model.teacher_ckpt.startswith('checkpoints/')
    assert cfg.train_cfg.type == 'mmtst.TSTIterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.train_cfg.phases_at_passes == [0, 6, 12]
    assert cfg.train_cfg.passes_per_phase == 1
    assert cfg.param_scheduler.augmenter == []
    assert cfg.param_scheduler.architecture[0].type == 'PolyLR'
    assert cfg.optim_wrapper.augmenter.clip_grad.max_norm == 20
    assert cfg.train_dataloader.dataset.type == 'CityscapesDataset'
    assert tuple(cfg.crop_size) == (512, 1024)


def test_teacher_and_student_resolve_from_mmseg():
    from mmtst.models.algorithms.base_distiller import resolve_model_cfg
    cfg = Config.fromfile(f'{REPO}/{CITYSCAPES["pspnet"]}')
    teacher = resolve_model_cfg(cfg.model.teacher, 'teacher')
    student = resolve_model_cfg(cfg.model.student, 'student')
    assert teacher.backbone.depth == 101 and student.backbone.depth == 18
    assert teacher.decode_head.num_classes == student.decode_head.num_classes
    assert student.data_preprocessor.size == (512, 1024)


def test_scenes_seg_pair_is_tiny_and_offline():
    cfg = Config.fromfile(
        f'{REPO}/configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-'
        f'4k_scenes-seg.py')
    for part in ('teacher', 'student'):
        model = cfg.model[part]
        assert model.pretrained is None
        assert model.backbone.init_cfg is None
        assert model.backbone.type == 'ResNetV1c'
    assert cfg.train_cfg.phases_at_passes == [0]
    assert cfg.val_evaluator.type == 'IoUMetric'
