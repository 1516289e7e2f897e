"""End to end through the command-line tools on the Fashion-MNIST scenes in
segmentation form: generate the data with label maps, distil a tiny PSPNet
with TST (one augmenter phase) under tools/train.py, evaluate with mmseg's
IoUMetric, export the student and load it with mmseg's own init_model."""
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from test_detection_e2e import run_tool

pytestmark = needs_fashion_mnist
CONFIG = ('configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_'
          'scenes-seg.py')


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('seg_e2e')
    data_root = str(root / 'scenes')
    out = run_tool(
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), data_root,
        '--train', '8', '--val', '4', '--seed', '5', '--semantic')
    assert 'wrote 8 train scenes' in out
    return root, data_root


def test_label_maps_and_dataset(scenes):
    import cv2

    from mmtst.datasets import FashionMNISTSceneSegmentation
    _, data_root = scenes
    labels = cv2.imread(
        osp.join(data_root, 'semantic/train/000000.png'), cv2.IMREAD_UNCHANGED)
    assert labels.shape == (96, 96) and labels.dtype == np.uint8
    assert labels.max() <= 10 and (labels == 0).any() and (labels > 0).any()
    dataset = FashionMNISTSceneSegmentation(
        data_root=data_root,
        pipeline=[],
        data_prefix=dict(img_path='val', seg_map_path='semantic/val'))
    assert len(dataset) == 4
    assert dataset.metainfo['classes'][0] == 'background'
    assert len(dataset.metainfo['classes']) == 11


def test_dataset_generates_a_missing_split(tmp_path):
    from mmtst.datasets import FashionMNISTSceneSegmentation
    dataset = FashionMNISTSceneSegmentation(
        data_root=str(tmp_path),
        pipeline=[],
        data_prefix=dict(img_path='val', seg_map_path='semantic/val'),
        generate=dict(num_images=2, seed=1))
    assert len(dataset) == 2
    assert osp.isfile(tmp_path / 'semantic' / 'val' / '000001.png')


def test_tst_train_evaluate_export(scenes):
    root, data_root = scenes
    work_dir = root / 'tst'
    options = [
        'model.teacher_ckpt=', 'model.allow_random_teacher=True',
        'train_dataloader.batch_size=4', 'val_dataloader.batch_size=4',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=3'
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
            f'{loader}_dataloader.dataset.data_root={data_root}/'
        ]
    out = run_tool(
        osp.join(REPO, 'tools/train.py'), osp.join(REPO, CONFIG), '--work-dir',
        str(work_dir), '--cfg-options', *options)
    assert 'TST augmenter phase at iteration 0, pass 1/1' in out
    assert 'augmenter.student_inverted.decode.loss_ce' in out
    assert 'augmenter.teacher.decode.loss_ce' in out
    assert 'distill.loss_decode_kd' in out and 'student.aux.loss_ce' in out
    assert 'mIoU' in out

    exported = root / 'student.pth'
    run_tool(
        osp.join(REPO, 'tools/model_converters/export_student.py'),
        str(work_dir / osp.basename(CONFIG)), str(work_dir / 'iter_3.pth'),
        str(exported))
    from mmseg.apis import inference_model, init_model

    from mmtst.utils import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    native = init_model(
        str(exported).replace('.pth', '.py'), str(exported), device='cpu')
    assert native.dataset_meta['classes'][0] == 'background'
    state = torch.load(
        work_dir / 'iter_3.pth', weights_only=True)['state_dict']
    for key, value in native.state_dict().items():
        assert torch.equal(value, state[f'student.{key}']), key
    result = inference_model(native, osp.join(data_root, 'val/000000.png'))
    assert result.pred_sem_seg.data.shape[-2:] == (96, 96)
