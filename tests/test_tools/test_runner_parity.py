"""A runner built from an mmtst config the way mmengine's tools build one
(``RUNNERS.build(cfg)``, or ``Runner.from_cfg(cfg)``) has what the runner of
tools/train.py has: the same runner class (atomic checkpoint writes), the
same hooks (weights-only checkpoints, the finite-loss check, exact resume)
and the same DDP wrapper. The runners are only built; nothing trains."""
import importlib.util
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

CONFIGS = [
    'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py',
    'configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_'
    'scenes.py',
    'configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_scenes-'
    'seg.py',
]
# a random teacher: building a runner must not need the teacher's file
NO_TEACHER = {'model.teacher_ckpt': None, 'model.allow_random_teacher': True}
MMTST_HOOKS = {
    'WeightsOnlyCheckpointHook', 'FiniteLossHook', 'ExactResumeHook',
    'TeacherValidationHook', 'SafeCheckpointHook', 'AugmenterLoggerHook'
}


def train_tool():
    """tools/train.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        'mmtst_tools_train', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plain_cfg(config: str, work_dir) -> Config:
    """The config as a user of mmengine alone would prepare it."""
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(NO_TEACHER)
    cfg.work_dir = str(work_dir)
    return cfg


def hook_names(runner) -> list:
    """The runner's hooks, in the order they are called."""
    return [type(hook).__name__ for hook in runner.hooks]


@pytest.fixture
def fast_config_dump(monkeypatch):
    """The config's raw text where a runner logs and dumps it: formatting
    it with yapf is most of a runner's build time, and plays no part here."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: self.text))


@pytest.mark.parametrize('config', CONFIGS)
def test_mmengine_builds_the_runner_tools_train_builds(config, tmp_path,
                                                       fast_config_dump):
    train = train_tool()
    options = [f'{key}={value}' for key, value in NO_TEACHER.items()]
    tool = train.build_runner(
        train.parse_args([
            osp.join(REPO, config), '--work-dir',
            str(tmp_path / 'tool'), '--cfg-options', *options
        ]))
    # what mmpretrain's, mmdet's and mmseg's tools/train.py do
    native = RUNNERS.build(plain_cfg(config, tmp_path / 'native'))
    assert type(native) is type(tool)
    assert type(tool).__name__ == 'AtomicCheckpointRunner'
    assert hook_names(native) == hook_names(tool)
    assert MMTST_HOOKS <= set(hook_names(tool))
    assert native.cfg.model_wrapper_cfg == tool.cfg.model_wrapper_cfg == dict(
        type='mmtst.DistillerDistributedDataParallel')
    # Runner.from_cfg ignores runner_type but gets the same hooks
    plain = Runner.from_cfg(plain_cfg(config, tmp_path / 'plain'))
    assert hook_names(plain) == hook_names(tool)


@pytest.mark.parametrize('scope', [None, 'mmpretrain', 'mmdet', 'mmseg'])
def test_runner_type_resolves_under_each_default_scope(scope):
    """``runner_type='mmtst.AtomicCheckpointRunner'`` resolves as
    ``RUNNERS.build`` looks it up, under the toolboxes' default scopes."""
    from mmtst.engine import AtomicCheckpointRunner
    with RUNNERS.switch_scope_and_registry(scope) as registry:
        assert registry.get('mmtst.AtomicCheckpointRunner') is \
            AtomicCheckpointRunner
