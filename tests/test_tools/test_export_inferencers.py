"""The exported student runs in each toolbox's own inferencer (issue #14):
mmpretrain's ImageClassificationInferencer, mmdet's DetInferencer and
mmseg's MMSegInferencer, on an image file, and predicts there what it
predicts through mmtst's test path (the config's data set and test
pipeline, the model's test_step) for that image. The students are random
(seeded): nothing is trained."""
import os.path as osp

import pytest
import torch
from conftest import REPO, needs_fashion_mnist
from helpers import run_tool

pytestmark = needs_fashion_mnist

EXPORT = osp.join(REPO, 'tools/model_converters/export_student.py')


def export_random_student(tmp_path, config, scope, **student_options):
    """Build the distiller config's student with seeded random weights,
    save it as a distiller checkpoint (``student.`` keys, no meta), export
    it with the tool; return (the student, its config, exported .py, .pth).
    """
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    from mmtst.apis import load_config
    cfg = load_config(osp.join(REPO, config))
    cfg.model.student.update(student_options)
    distiller_cfg = tmp_path / 'distiller.py'
    cfg.dump(str(distiller_cfg))
    init_default_scope(scope)
    torch.manual_seed(0)
    student = MODELS.build(cfg.model.student).eval()
    for module in student.modules():  # BN statistics away from identity
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    checkpoint = tmp_path / 'distiller.pth'
    torch.save(
        dict(state_dict={
            f'student.{k}': v
            for k, v in student.state_dict().items()
        }), checkpoint)
    exported = tmp_path / 'student.pth'
    run_tool(EXPORT, str(distiller_cfg), str(checkpoint), str(exported))
    from mmtst.utils import allow_mmengine_checkpoints
    allow_mmengine_checkpoints()
    return student, Config.fromfile(str(distiller_cfg)), \
        str(exported).replace('.pth', '.py'), str(exported)


def own_prediction(student, cfg, scope, **dataset_options):
    """The student's prediction for the first test image through mmtst's
    test path, and that image's file (or pixels)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope(scope)
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(dataset_options)
    dataset = DATASETS.build(dataset_cfg)
    with torch.no_grad():
        prediction = student.test_step(pseudo_collate([dataset[0]]))[0]
    return prediction, dataset


def test_grey_classifier_runs_in_image_classification_inferencer(tmp_path):
    import cv2
    from mmpretrain.apis import ImageClassificationInferencer
    student, cfg, exported_cfg, exported = export_random_student(
        tmp_path, 'configs/quickstart/kd_resnet20_resnet8_1xb128-4e_fmnist.py',
        'mmpretrain')
    expected, dataset = own_prediction(
        student, cfg, 'mmpretrain', data_root=str(tmp_path / 'fashion-mnist'))
    grey = dataset.get_data_info(0)['img']
    assert grey.ndim == 2  # a grey 28x28 Fashion-MNIST image
    png = str(tmp_path / 'sample.png')
    assert cv2.imwrite(png, grey)

    inferencer = ImageClassificationInferencer(
        exported_cfg, pretrained=exported, device='cpu')
    got = inferencer(png)[0]
    assert got['pred_label'] == int(expected.pred_label)
    assert torch.allclose(
        torch.from_numpy(got['pred_scores']), expected.pred_score, atol=1e-6)
    classes = dataset.metainfo['classes']
    assert got['pred_class'] == classes[got['pred_label']]
    # and from pixels read in colour, as a caller's own cv2.imread gives
    colour = cv2.imread(png)
    assert colour.shape == (28, 28, 3)
    got = inferencer(colour)[0]
    assert torch.allclose(
        torch.from_numpy(got['pred_scores']), expected.pred_score, atol=1e-6)


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    data_root = str(tmp_path_factory.mktemp('export_inferencers') / 'scenes')
    run_tool(
        osp.join(REPO, 'tools/dataset_converters/make_scenes.py'), data_root,
        '--train', '2', '--val', '2', '--seed', '3', '--semantic')
    return data_root


def test_detector_runs_in_det_inferencer(tmp_path, scenes):
    pytest.importorskip('mmdet')
    from mmdet.apis import DetInferencer
    student, cfg, exported_cfg, exported = export_random_student(
        tmp_path,
        'configs/tst/scenes/tst_retinanet_r18w16_retinanet_r18w8_1xb16-12e_'
        'scenes.py',
        'mmdet',
        test_cfg=dict(
            nms_pre=100,
            min_bbox_size=0,
            score_thr=0.0,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=20))
    expected, dataset = own_prediction(
        student, cfg, 'mmdet', data_root=scenes + '/')
    image = dataset.get_data_info(0)['img_path']
    expected = expected.pred_instances
    assert len(expected) > 0

    inferencer = DetInferencer(
        model=exported_cfg, weights=exported, device='cpu')
    got = inferencer(
        image, return_datasamples=True,
        no_save_vis=True)['predictions'][0].pred_instances
    assert torch.equal(got.labels, expected.labels)
    assert torch.allclose(got.scores, expected.scores, atol=1e-5)
    assert torch.allclose(got.bboxes, expected.bboxes, atol=1e-3)
    assert inferencer.model.dataset_meta['classes'] == \
        dataset.metainfo['classes']


def test_segmenter_runs_in_mmseg_inferencer(tmp_path, scenes):
    pytest.importorskip('mmseg')
    from mmseg.apis import MMSegInferencer
    student, cfg, exported_cfg, exported = export_random_student(
        tmp_path,
        'configs/tst/scenes_seg/tst_pspnet_r18w16_pspnet_r18w8_1xb8-4k_scenes-'
        'seg.py', 'mmseg')
    expected, dataset = own_prediction(
        student, cfg, 'mmseg', data_root=scenes + '/')
    image = dataset.get_data_info(0)['img_path']

    inferencer = MMSegInferencer(
        model=exported_cfg, weights=exported, device='cpu')
    got = inferencer(image, return_datasamples=True)
    assert torch.allclose(
        got.seg_logits.data, expected.seg_logits.data, atol=1e-5)
    assert torch.equal(got.pred_sem_seg.data, expected.pred_sem_seg.data)
    assert list(inferencer.model.dataset_meta['classes']) == \
        list(dataset.metainfo['classes'])


def test_grey_preprocessor_and_inferencer_pipeline():
    import importlib.util

    from mmengine.registry import MODELS, init_default_scope
    init_default_scope('mmpretrain')
    pre = MODELS.build(
        dict(type='mmtst.GreyClsDataPreprocessor', mean=[72.94], std=[90.02]))
    grey = torch.randint(0, 256, (2, 1, 8, 8), dtype=torch.uint8)
    colour = grey.expand(2, 3, 8, 8)  # a grey image read in colour
    want = pre(dict(inputs=grey))['inputs']
    assert want.shape == (2, 1, 8, 8)
    assert torch.equal(pre(dict(inputs=colour))['inputs'], want)
    assert torch.equal(pre(dict(inputs=list(colour)))['inputs'], want)
    bgr = torch.zeros(1, 3, 1, 1, dtype=torch.uint8)
    bgr[0, 2] = 255  # pure red in BGR: luma 0.299 * 255
    assert pre(dict(inputs=bgr))['inputs'].item() == pytest.approx(
        (76 - 72.94) / 90.02)
    with pytest.raises(ValueError, match='to_rgb'):
        MODELS.build(
            dict(
                type='mmtst.GreyClsDataPreprocessor',
                mean=[0.],
                std=[1.],
                to_rgb=True))

    spec = importlib.util.spec_from_file_location('export_student', EXPORT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    pipeline = tool.inferencer_pipeline([
        dict(type='mmtst.LoadImageOrReport', skip_corrupt=True),
        dict(type='PackDetInputs')
    ])
    assert pipeline[0] == dict(type='LoadImageFromFile', ignore_empty=True)
    colour_model = dict(
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor', mean=[1., 2., 3.], std=[1., 1., 1.]))
    assert tool.grey_preprocessor(colour_model) == colour_model
    grey_model = dict(
        colour_model,
        data_preprocessor=dict(
            type='ClsDataPreprocessor', mean=[1.], std=[1.]))
    assert tool.grey_preprocessor(grey_model)['data_preprocessor']['type'] \
        == 'mmtst.GreyClsDataPreprocessor'
