"""Every detection config parses and passes mmtst's argument check; the
cheap (scenes) ones are built."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmtst.apis import prepare_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COCO = sorted(glob.glob(osp.join(REPO, 'configs/tst/coco/*.py')))
SCENES = sorted(glob.glob(osp.join(REPO, 'configs/*/scenes/*.py')))


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Build in mmdet's scope without leaving it as the default for the
    tests that run after these."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


@pytest.mark.parametrize('path', COCO + SCENES, ids=osp.basename)
def test_config_parses(path):
    cfg = prepare_config(Config.fromfile(path), path)
    assert cfg.default_scope == 'mmdet'
    if 'tst_' in osp.basename(path):
        assert cfg.model.type == 'mmtst.DetectionDistiller'
        assert cfg.train_cfg.type == 'mmtst.TSTEpochBasedTrainLoop'
        assert cfg.optim_wrapper.augmenter.clip_grad.max_norm == 20
        assert cfg.param_scheduler.augmenter == []
        assert ('mimic' in osp.basename(path)) == ('mimic' in cfg.model)


@pytest.mark.parametrize('path', COCO, ids=osp.basename)
def test_coco_configs_follow_the_paper(path):
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.max_epochs == 24
    assert cfg.train_cfg.phases_at_epochs == [6, 12]
    assert cfg.train_cfg.passes_per_phase == 1
    assert cfg.optim_wrapper.architecture.optimizer.lr == 0.01
    assert cfg.model.teacher.startswith('mmdet::')
    assert cfg.model.teacher_ckpt.startswith('checkpoints/')


@pytest.mark.parametrize(
    'path', [p for p in SCENES if 'tst_' in p], ids=osp.basename)
def test_scenes_distillers_build(path):
    from mmtst.registry import MODELS
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = None
    cfg.model.allow_random_teacher = True
    model = MODELS.build(cfg.model)
    assert model.augmenter is not None
    assert sum(p.numel() for p in model.student.parameters()) < 500_000
