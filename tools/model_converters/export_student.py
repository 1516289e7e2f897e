"""Export a distiller's student (or teacher) as a plain OpenMMLab checkpoint.

The output loads with the native toolbox unchanged, e.g. mmpretrain's
``init_model(OUT.py, OUT.pth)`` or ``tools/test.py OUT.py OUT.pth`` of
mmpretrain / mmdet / mmseg. Writes ``OUT.pth`` (weights only, written
atomically) and ``OUT.py`` (the model's config with the distiller
config's data and evaluation settings).

Usage:
    python tools/model_converters/export_student.py CONFIG CHECKPOINT OUT.pth [--teacher]
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import load_config, run_friendly  # noqa: E402
from mmtst.utils import (extract_state_dict, load_checkpoint_file,  # noqa: E402
                         save_atomically)

# Settings of the distiller config that the exported config keeps.
CARRIED_KEYS = ('default_scope', 'dataset_type', 'data_root', 'test_pipeline',
                'val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg',
                'env_cfg', 'default_hooks', 'vis_backends', 'visualizer',
                'log_level', 'randomness')


def export(config: str, checkpoint: str, out: str, part: str = 'student',
           allow_unsafe: bool = False) -> str:
    """Write ``out`` (weights) and its config beside it; return the config's
    path."""
    if not out.endswith('.pth'):
        raise ValueError(f'the output must be a .pth path, got {out!r}')
    cfg = load_config(config)
    model_cfg = cfg.model.get(part)
    if not str(cfg.model.get('type', '')).endswith('Distiller') or model_cfg is None:
        raise ValueError(f'{config} is not a distiller config with a {part}')
    if isinstance(model_cfg, str):
        # a config path, 'mmseg::...' included, with its data preprocessor
        from mmtst.models.algorithms.base_distiller import resolve_model_cfg
        model_cfg = resolve_model_cfg(model_cfg, part).to_dict()
    loaded = load_checkpoint_file(checkpoint, allow_unsafe=allow_unsafe,
                                  what='distiller checkpoint')
    state = extract_state_dict(loaded, prefix=f'{part}.')
    meta = dict(exported_by='mmtst', part=part,
                source_config=osp.abspath(config),
                source_checkpoint=osp.abspath(checkpoint))
    # the class names: mmdet's init_detector / mmseg's init_model read them
    # from here (and fall back to COCO / Cityscapes names without them)
    dataset_meta = (loaded.get('meta') or {}).get('dataset_meta') if isinstance(
        loaded, dict) else None
    if dataset_meta:
        meta['dataset_meta'] = dataset_meta
    if not state:
        raise ValueError(f'{checkpoint} holds no `{part}.` weights: is it a '
                         'checkpoint of this distiller?')
    save_atomically(dict(state_dict=state, meta=meta), out)
    exported = {k: cfg[k] for k in CARRIED_KEYS if k in cfg}
    exported['model'] = model_cfg
    config_out = osp.splitext(out)[0] + '.py'
    Config(exported).dump(config_out)
    return config_out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the distiller config')
    parser.add_argument('checkpoint', help='a checkpoint of that distiller')
    parser.add_argument('out', help='output .pth (its .py is written beside)')
    parser.add_argument('--teacher', action='store_true',
                        help='export the teacher instead of the student')
    parser.add_argument('--allow-unsafe-checkpoint', action='store_true',
                        help='allow a checkpoint that needs arbitrary '
                        'unpickling (only for files you trust)')
    args = parser.parse_args()
    part = 'teacher' if args.teacher else 'student'
    config_out = export(args.config, args.checkpoint, args.out, part,
                        args.allow_unsafe_checkpoint)
    print(f'wrote {args.out} and {config_out}')


if __name__ == '__main__':
    run_friendly(main)
