"""End to end through the command-line tools on Fashion-MNIST scenes:
generate the data, train a RetinaNet teacher, distil it with TST (one
augmenter phase), evaluate with CocoMetric, export the student and load it
with mmdet's own init_detector; and a Faster R-CNN pair."""
import os.path as osp

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import run_tool, run_train

pytestmark = needs_fashion_mnist


def small(data_root):
    ann = osp.join(data_root, 'annotations', 'val.json')
    options = [
        'train_dataloader.batch_size=8',
        'val_dataloader.batch_size=8',
        'default_hooks.logger.interval=1',
        'train_cfg.max_epochs=1',
        f'val_evaluator.ann_file={ann}',
        f'test_evaluator.ann_file={ann}',
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
            f'{loader}_dataloader.dataset.data_root={data_root}/'
        ]
    return options


def train(config, work_dir, data_root, *extra):
    return run_tool(
        osp.join(REPO, 'tools/train.py'), osp.join(REPO, config), '--work-dir',
        str(work_dir), '--cfg-options', *small(data_root), *extra)


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('det_e2e')
    data_root = str(root / 'scenes')
    out = run_tool(
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), data_root,
        '--train', '16', '--val', '8', '--seed', '3')
    assert 'wrote 16 train scenes' in out
    return root, data_root


def test_retinanet_teacher_tst_evaluate_export(scenes):
    root, data_root = scenes
    train('configs/teachers/scenes/retinanet_r18w16_1xb16-12e_scenes.py',
          root / 'teacher', data_root)
    from mmtst.utils import extract_state_dict, load_checkpoint_file
    teacher = root / 'teacher.pth'
    torch.save(
        dict(
            state_dict=extract_state_dict(
                load_checkpoint_file(str(root / 'teacher' / 'epoch_1.pth')))),
        teacher)

    config = ('configs/tst/scenes/'
              'tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_scenes.py')
    work_dir = root / 'tst'
    out = train(
        config,
        work_dir,
        data_root,
        f'model.teacher_ckpt={teacher}',
        'train_cfg.phases_at_epochs=[0]',
        # an untrained student scores below mmdet's 0.05
        'model.student.test_cfg.score_thr=0.0')
    assert 'TST augmenter phase at epoch 0, pass 1/1' in out
    assert 'augmenter.student_inverted.loss_cls' in out
    assert 'augmenter.teacher.loss_cls' in out
    assert 'distill.loss_cls_kl' in out and 'student.loss_bbox' in out
    assert 'coco/bbox_mAP' in out

    exported = root / 'student.pth'
    run_tool(
        osp.join(REPO, 'tools/model_converters/export_student.py'),
        str(work_dir / osp.basename(config)), str(work_dir / 'epoch_1.pth'),
        str(exported))
    from mmdet.apis import init_detector

    from mmtst.utils import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    native = init_detector(
        str(exported).replace('.pth', '.py'), str(exported), device='cpu')
    assert native.dataset_meta['classes'][0] == 'T-shirt/top'
    state = torch.load(
        work_dir / 'epoch_1.pth', weights_only=True)['state_dict']
    for key, value in native.state_dict().items():
        assert torch.equal(value, state[f'student.{key}']), key


def test_faster_rcnn_tst_runs_and_evaluates(scenes):
    root, data_root = scenes
    out = train(
        'configs/tst/scenes/tst_faster-rcnn_r18w16_faster-rcnn_r18w8_1xb16-'
        '12e_scenes.py', root / 'frcnn', data_root, 'model.teacher_ckpt=',
        'model.allow_random_teacher=True', 'train_cfg.phases_at_epochs=[0]',
        'model.student.test_cfg.rcnn.score_thr=0.0')
    assert 'TST augmenter phase at epoch 0, pass 1/1' in out
    assert 'augmenter.student_inverted.loss_rpn_cls' in out
    assert 'distill.loss_roi_cls_kl' in out
    assert 'coco/bbox_mAP' in out


def test_corrupt_image_stops_training_with_one_clear_line(tmp_path):
    """Every training image unreadable, read in a loader worker process:
    tools/train.py ends with one line naming a file, no traceback."""
    import json
    data_root = str(tmp_path / 'scenes')
    run_tool(
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), data_root,
        '--train', '4', '--val', '2', '--seed', '5')
    with open(osp.join(data_root, 'annotations', 'train.json')) as f:
        names = [image['file_name'] for image in json.load(f)['images']]
    for name in names:
        with open(osp.join(data_root, name), 'wb') as f:
            f.write(b'not an image')
    code, out = run_train(
        osp.join(REPO, 'configs/teachers/scenes',
                 'retinanet_r18w16_1xb16-12e_scenes.py'),
        tmp_path / 'work',
        options=[*small(data_root), 'train_dataloader.num_workers=1'],
        threads=2)
    assert code == 2, out[-3000:]
    error = [line for line in out.splitlines() if 'mmtst: error:' in line]
    assert len(
        error) == 1 and 'CorruptImageError: cannot read image' in error[0]
    assert any(osp.join(data_root, name) in error[0] for name in names)
    assert 'Traceback' not in out
