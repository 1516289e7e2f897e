"""Export a distiller's student (or teacher) as a plain OpenMMLab checkpoint.

The output loads with the native toolbox unchanged, e.g. mmpretrain's
``init_model(OUT.py, OUT.pth)`` or ``tools/test.py OUT.py OUT.pth`` of
mmpretrain / mmdet / mmseg, and runs in their inferencers
(``ImageClassificationInferencer``, ``DetInferencer``, ``MMSegInferencer``).
Writes ``OUT.pth`` (weights only, written atomically, with the class names)
and ``OUT.py`` (the model's config with the distiller config's data and
evaluation settings), made fit for those inferencers:

* mmtst's image loader becomes mmcv's ``LoadImageFromFile``, the one the
  mmdet / mmseg inferencers look for (and replace) in the test pipeline;
* a grey (1-channel) classifier gets ``mmtst.GreyClsDataPreprocessor``,
  which turns the colour images the inferencers read into grey;
* the class names (and palette) come from the checkpoint's meta or, when
  it has none, from the test data set's class.

Usage:
    python tools/model_converters/export_student.py CONFIG CHECKPOINT \\
        OUT.pth [--teacher]
"""
import argparse
import copy
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import load_config, run_friendly
from mmtst.utils import (extract_state_dict, load_checkpoint_file,
                         save_atomically)

# Settings of the distiller config that the exported config keeps.
CARRIED_KEYS = ('default_scope', 'dataset_type', 'data_root', 'test_pipeline',
                'val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg', 'env_cfg',
                'default_hooks', 'vis_backends', 'visualizer', 'log_level',
                'randomness')

# mmtst's loaders, subclasses of mmcv's LoadImageFromFile that the
# inferencers do not recognise: the export names mmcv's instead
MMTST_LOADERS = ('mmtst.LoadImageOrReport', 'LoadImageOrReport')
CLS_PREPROCESSORS = ('ClsDataPreprocessor', 'mmpretrain.ClsDataPreprocessor')


def _plain(value):
    """A copy of ``value`` with its ConfigDicts as plain dicts."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return copy.deepcopy(value)


def inferencer_pipeline(pipeline: list) -> list:
    """``pipeline`` with mmtst's image loader replaced by mmcv's."""
    out = []
    for step in pipeline:
        step = copy.deepcopy(step)
        if isinstance(step, dict) and step.get('type') in MMTST_LOADERS:
            step['type'] = 'LoadImageFromFile'
            if step.pop('skip_corrupt', False):
                step['ignore_empty'] = True
        out.append(step)
    return out


def _fix_dataset_pipelines(dataset: dict) -> None:
    """Replace the loaders of ``dataset`` and of the data sets it wraps."""
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('pipeline'), (list, tuple)):
        dataset['pipeline'] = inferencer_pipeline(dataset['pipeline'])
    inner = dataset.get('dataset')
    for each in inner if isinstance(inner, (list, tuple)) else [inner]:
        _fix_dataset_pipelines(each)
    for each in dataset.get('datasets') or []:
        _fix_dataset_pipelines(each)


def grey_preprocessor(model_cfg: dict) -> dict:
    """``model_cfg`` with a grey classifier's ``ClsDataPreprocessor`` made
    ``mmtst.GreyClsDataPreprocessor`` (colour input turned grey)."""
    preprocessor = model_cfg.get('data_preprocessor')
    if preprocessor is None and 'Classifier' in str(model_cfg.get('type')):
        preprocessor = dict(type='ClsDataPreprocessor')
    if not isinstance(preprocessor, dict) or \
            preprocessor.get('type') not in CLS_PREPROCESSORS:
        return model_cfg
    mean = preprocessor.get('mean')
    backbone = model_cfg.get('backbone') or {}
    grey = (mean is not None and len(mean) == 1) or \
        backbone.get('in_channels') == 1
    if grey:
        model_cfg = dict(
            model_cfg,
            data_preprocessor=dict(
                preprocessor, type='mmtst.GreyClsDataPreprocessor'))
    return model_cfg


def dataset_meta_of(cfg) -> dict:
    """The classes (and palette) of the config's test data set: its
    ``metainfo`` or its class's ``METAINFO``; {} when unknown."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    while isinstance(dataset, dict) and 'type' in dataset and \
            'dataset' in dataset and 'pipeline' not in dataset:
        dataset = dataset['dataset']  # a wrapper (RepeatDataset, ...)
    if not isinstance(dataset, dict) or not isinstance(
            dataset.get('type'), str):
        return {}
    meta = {}
    try:
        from mmengine.registry import DATASETS

        import mmtst.registry  # noqa: F401  (the mmtst. scope)
        with DATASETS.switch_scope_and_registry(
                cfg.get('default_scope')) as registry:
            dataset_class = registry.get(dataset['type'])
        meta = dict(getattr(dataset_class, 'METAINFO', None) or {})
    except Exception:  # an unknown toolbox: the checkpoint has no names then
        pass
    meta.update(dataset.get('metainfo') or {})
    return {k: _plain(meta[k]) for k in ('classes', 'palette') if k in meta}


def export(config: str,
           checkpoint: str,
           out: str,
           part: str = 'student',
           allow_unsafe: bool = False) -> str:
    """Write ``out`` (weights) and its config beside it; return the config's
    path."""
    if not out.endswith('.pth'):
        raise ValueError(f'the output must be a .pth path, got {out!r}')
    cfg = load_config(config)
    model_cfg = cfg.model.get(part)
    if not str(cfg.model.get('type',
                             '')).endswith('Distiller') or model_cfg is None:
        raise ValueError(f'{config} is not a distiller config with a {part}')
    if isinstance(model_cfg, str):
        # a config path, 'mmseg::...' included, with its data preprocessor
        from mmtst.models.algorithms.base_distiller import resolve_model_cfg
        model_cfg = resolve_model_cfg(model_cfg, part).to_dict()
    loaded = load_checkpoint_file(
        checkpoint, allow_unsafe=allow_unsafe, what='distiller checkpoint')
    state = extract_state_dict(loaded, prefix=f'{part}.')
    meta = dict(
        exported_by='mmtst',
        part=part,
        source_config=osp.abspath(config),
        source_checkpoint=osp.abspath(checkpoint))
    # the class names: mmdet's init_detector / mmseg's init_model read them
    # from here (and fall back to COCO / Cityscapes names without them)
    dataset_meta = (loaded.get('meta')
                    or {}).get('dataset_meta') if isinstance(loaded,
                                                             dict) else None
    if not dataset_meta:
        dataset_meta = dataset_meta_of(cfg)
    if dataset_meta:
        meta['dataset_meta'] = dataset_meta
    if not state:
        raise ValueError(f'{checkpoint} holds no `{part}.` weights: is it a '
                         'checkpoint of this distiller?')
    save_atomically(dict(state_dict=state, meta=meta), out)
    exported = {k: _plain(cfg[k]) for k in CARRIED_KEYS if k in cfg}
    if isinstance(exported.get('test_pipeline'), list):
        exported['test_pipeline'] = inferencer_pipeline(
            exported['test_pipeline'])
    for key in ('val_dataloader', 'test_dataloader'):
        if isinstance(exported.get(key), dict):
            _fix_dataset_pipelines(exported[key].get('dataset'))
    exported['model'] = grey_preprocessor(_plain(model_cfg))
    config_out = osp.splitext(out)[0] + '.py'
    Config(exported).dump(config_out)
    return config_out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the distiller config')
    parser.add_argument('checkpoint', help='a checkpoint of that distiller')
    parser.add_argument('out', help='output .pth (its .py is written beside)')
    parser.add_argument(
        '--teacher',
        action='store_true',
        help='export the teacher instead of the student')
    parser.add_argument(
        '--allow-unsafe-checkpoint',
        action='store_true',
        help='allow a checkpoint that needs arbitrary '
        'unpickling (only for files you trust)')
    args = parser.parse_args()
    part = 'teacher' if args.teacher else 'student'
    config_out = export(args.config, args.checkpoint, args.out, part,
                        args.allow_unsafe_checkpoint)
    print(f'wrote {args.out} and {config_out}')


if __name__ == '__main__':
    run_friendly(main)
