"""Render training images next to their TST-augmented versions, each
labelled with the ops that fired on it.

Uses the augmenter of a TST config at the policy stored in a checkpoint
(or at its initial policy p = m = 0.5 without one). In eval mode (the
default) the augmenter is deterministic for a given seed.

Usage:
    python tools/analysis/show_augmented.py CONFIG [CHECKPOINT] [--out grid.png] [--num 32] [--train-mode]
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import load_config, run_friendly  # noqa: E402
from mmtst.utils import extract_state_dict, load_checkpoint_file  # noqa: E402
from mmtst.visualization import fired_ops, sample_grid  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a TST distiller config')
    parser.add_argument('checkpoint', nargs='?', help='a checkpoint of it')
    parser.add_argument('--out', default='augmented.png')
    parser.add_argument('--num', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--train-mode', action='store_true',
                        help='sample as in training (soft gates) instead of '
                        'the deterministic eval mode')
    args = parser.parse_args()

    cfg = load_config(args.config)
    if cfg.model.get('augmenter') is None:
        raise ValueError(f'{args.config} has no model.augmenter (not TST)')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmengine.registry import DATASETS, MODELS
    augmenter_cfg = dict(cfg.model.augmenter, _scope_='mmtst', eval_seed=args.seed)
    augmenter = MODELS.build(augmenter_cfg)
    if args.checkpoint:
        state = extract_state_dict(load_checkpoint_file(args.checkpoint),
                                   prefix='augmenter.')
        if not state:
            raise ValueError(f'{args.checkpoint} holds no augmenter weights')
        augmenter.load_state_dict(state, strict=False)
    augmenter.train(args.train_mode)

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(args.seed)
    images = [dataset[i]['inputs'] for i in range(min(args.num, len(dataset)))]
    batch = torch.stack(images).float() / 255.0
    with torch.no_grad():
        augmented = augmenter(batch)
    # under each augmented image: the picked ops whose gate fired on it
    labels = [fired_ops(augmenter.last_draws, i) for i in range(len(batch))]
    sample_grid(batch, augmented, args.out, labels=labels)
    print(f'wrote {args.out}; policy: ' + ', '.join(
        f'{k}={v:.2f}' for k, v in augmenter.policy_dict().items()))


if __name__ == '__main__':
    run_friendly(main)
