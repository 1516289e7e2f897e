"""Render training images next to their TST-augmented versions, each
labelled with the ops that fired on it; for detection the boxes and for
segmentation the label maps are drawn, before and after the warp.

Uses the augmenter of a TST config at the policy stored in a checkpoint
(or at its initial policy p = m = 0.5 without one). In eval mode (the
default) the augmenter is deterministic for a given seed.

Usage:
    python tools/analysis/show_augmented.py CONFIG [CHECKPOINT] \\
        [--out grid.png] [--num 32] [--train-mode] [--cfg-options k=v ...]
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import load_config, run_friendly
from mmtst.apis.config_checks import check_overrides
from mmtst.utils import extract_state_dict, load_checkpoint_file
from mmtst.visualization import fired_ops, sample_grid


def augment(augmenter, batch, samples, model_type: str):
    """The augmented batch, and for a detection / segmentation distiller
    the samples whose boxes / label maps followed the warp (else None)."""
    structured = ('DetectionDistiller', 'SegmentationDistiller')
    if not model_type.endswith(structured):
        return augmenter(batch), None
    from mmtst.models.task_adapters import (warp_data_samples,
                                            warp_seg_data_samples)
    augmented, matrices = augmenter.augment_with_geometry(batch)
    if model_type.endswith('DetectionDistiller'):
        return augmented, warp_data_samples(samples, matrices.detach())
    return augmented, warp_seg_data_samples(samples, matrices.detach())


def annotations(samples, warped):
    """(original, augmented) boxes or label maps per image, for the grid."""
    if warped is None:
        return None, None
    if hasattr(samples[0], 'gt_instances'):

        def boxes(sample):
            bboxes = sample.gt_instances.bboxes
            return getattr(bboxes, 'tensor', bboxes)

        return [(boxes(s), boxes(w)) for s, w in zip(samples, warped)], 'boxes'
    return [(s.gt_sem_seg.data[0], w.gt_sem_seg.data[0])
            for s, w in zip(samples, warped)], 'label_maps'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a TST distiller config')
    parser.add_argument('checkpoint', nargs='?', help='a checkpoint of it')
    parser.add_argument('--out', default='augmented.png')
    parser.add_argument('--num', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--train-mode',
        action='store_true',
        help='sample as in training (soft gates) instead of '
        'the deterministic eval mode')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args()

    cfg = load_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(check_overrides(cfg, args.cfg_options))
    if cfg.model.get('augmenter') is None:
        raise ValueError(f'{args.config} has no model.augmenter (not TST)')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmengine.registry import DATASETS, MODELS
    augmenter_cfg = dict(
        cfg.model.augmenter, _scope_='mmtst', eval_seed=args.seed)
    augmenter = MODELS.build(augmenter_cfg)
    if args.checkpoint:
        state = extract_state_dict(
            load_checkpoint_file(args.checkpoint), prefix='augmenter.')
        if not state:
            raise ValueError(f'{args.checkpoint} holds no augmenter weights')
        augmenter.load_state_dict(state, strict=False)
    augmenter.train(args.train_mode)

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(args.seed)
    items = [dataset[i] for i in range(min(args.num, len(dataset)))]
    if len({tuple(item['inputs'].shape) for item in items}) > 1:
        raise ValueError('the images have different sizes; this tool shows '
                         'one batch of equal-size images (a dataset with a '
                         'fixed-size pipeline, or a smaller --num)')
    batch = torch.stack([item['inputs'] for item in items]).float() / 255.0
    samples = [item.get('data_samples') for item in items]
    with torch.no_grad():
        augmented, warped = augment(augmenter, batch, samples,
                                    str(cfg.model.get('type', '')))
    # under each augmented image: the picked ops whose gate fired on it
    labels = [fired_ops(augmenter.last_draws, i) for i in range(len(batch))]
    drawn, kind = annotations(samples, warped)
    sample_grid(
        batch,
        augmented,
        args.out,
        labels=labels,
        annotations=drawn,
        annotation_kind=kind)
    print(f'wrote {args.out}; policy: ' +
          ', '.join(f'{k}={v:.2f}'
                    for k, v in augmenter.policy_dict().items()))


if __name__ == '__main__':
    run_friendly(main)
