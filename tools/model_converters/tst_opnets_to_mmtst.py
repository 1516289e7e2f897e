"""Convert the TST authors' published op nets to one mmtst checkpoint.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2) imitates each of the 11 magnitude ops with a
tiny pre-fitted net. The authors publish theirs (fitted on CIFAR) as one
state dict per op, ``SDAKD_FOR_BASELINE/checkpoints/Augmentation/<Op>.pth``
in github.com/shaoshitong/TST: ``FreezeSTN`` nets for ShearX, ShearY,
TranslateX, TranslateY, Rotate and ``ColorAugmentation`` nets for
Brightness, Color, Contrast, Sharpness, Posterize, Solarize.

This tool reads the 11 files (``weights_only`` loading only), checks their
keys and shapes against :mod:`mmtst.models.augmenters.authors_op_nets`
(which rebuilds the authors' nets with their exact parameter layout), and
writes, atomically, ``{'state_dict': {'nets.<Op>.<key>': tensor},
'meta': {'arch': 'authors', 'dataset_type': ..., 'source': ..., ...}}``.
``NeuralOpBank.load_fitted`` recognises ``meta['arch']`` and builds the
authors' nets, so setting ``model.augmenter.op_net_ckpt`` to the output (with
``backend='neural'``) gives the authors' augmenter ops. ``--dataset-type``
chooses the mean/std the nets normalise with (the authors' nets were
fitted on CIFAR-normalised images).

It prints each op's learned apply logit and sigmoid(logit), the share of
samples the op transforms.

Usage:
    python tools/model_converters/tst_opnets_to_mmtst.py \\
        TST/SDAKD_FOR_BASELINE/checkpoints/Augmentation \\
        checkpoints/op_nets_tst_authors_cifar.pth [--dataset-type CIFAR]
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.models.augmenters.authors_op_nets import (DATASET_STATS,
                                                     checkpoint_meta,
                                                     expected_state_shapes)
from mmtst.models.augmenters.op_specs import MAGNITUDE_OPS, OP_SPECS
from mmtst.utils import save_atomically

# the authors' class name per kind, for messages
AUTHORS_CLASS = {'geometric': 'FreezeSTN', 'colour': 'ColorAugmentation'}


def load_op_state(src_dir: str, name: str) -> Dict[str, torch.Tensor]:
    """The checked state dict of ``<src_dir>/<name>.pth``."""
    path = osp.join(src_dir, f'{name}.pth')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} not found: SRC_DIR must hold the authors\' 11 files '
            f'{", ".join(n + ".pth" for n in MAGNITUDE_OPS)} (their '
            'SDAKD_FOR_BASELINE/checkpoints/Augmentation folder).')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:
        raise ValueError(
            f'cannot read {path} as a weights-only torch '
            f'checkpoint ({type(err).__name__}: '
            f'{str(err).splitlines()[0] if str(err) else ""})') from err
    expected = expected_state_shapes(name)
    what = f'{AUTHORS_CLASS[OP_SPECS[name].kind]} state dict'
    if not isinstance(state, dict):
        raise ValueError(f'{path} holds a {type(state).__name__}, not a '
                         f'{what}.')
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        problems.append(f'missing keys {missing}')
    if unexpected:
        problems.append(f'unexpected keys {unexpected}')
    for key in sorted(set(expected) & set(state)):
        value = state[key]
        if not isinstance(value, torch.Tensor):
            problems.append(f'{key} is a {type(value).__name__}')
        elif tuple(value.shape) != expected[key]:
            problems.append(f'{key} has shape {tuple(value.shape)}, '
                            f'expected {expected[key]}')
        elif not value.is_floating_point():
            problems.append(f'{key} has dtype {value.dtype}')
    if problems:
        raise ValueError(f'{path} is not the authors\' {what} for {name}: '
                         f'{"; ".join(problems)}.')
    return {key: state[key].detach().clone() for key in expected}


def convert(src_dir: str) -> 'OrderedDict[str, torch.Tensor]':
    """The 11 op files of ``src_dir`` -> a NeuralOpBank state dict."""
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'SRC_DIR {src_dir} is not a directory.')
    converted = OrderedDict()
    for name in MAGNITUDE_OPS:
        for key, value in load_op_state(src_dir, name).items():
            converted[f'nets.{name}.{key}'] = value
    return converted


def apply_table(state: Dict[str, torch.Tensor]) -> str:
    """One line per op: its apply logit and sigmoid(logit)."""
    lines = [f'{"op":<11} {"net":<17} {"logit":>8} {"applied":>8}']
    for name in MAGNITUDE_OPS:
        logit = float(state[f'nets.{name}.logits'].reshape(-1)[0])
        prob = float(torch.sigmoid(torch.tensor(logit)))
        lines.append(f'{name:<11} {AUTHORS_CLASS[OP_SPECS[name].kind]:<17} '
                     f'{logit:8.3f} {100 * prob:7.2f}%')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src_dir',
        help='folder with the authors\' <Op>.pth '
        'files (SDAKD_FOR_BASELINE/checkpoints/Augmentation)')
    parser.add_argument('dst', help='output mmtst checkpoint (.pth)')
    parser.add_argument(
        '--dataset-type',
        default='CIFAR',
        choices=list(DATASET_STATS),
        help='mean/std the nets normalise with (default: '
        'CIFAR, the data the published nets were fitted on)')
    args = parser.parse_args(argv)
    state = convert(args.src_dir)
    meta = checkpoint_meta(
        args.dataset_type, source=osp.abspath(args.src_dir), ops=MAGNITUDE_OPS)
    save_atomically(dict(state_dict=state, meta=meta), args.dst)
    print(apply_table(state))
    print(f'wrote {args.dst} ({len(state)} tensors, arch authors, '
          f'dataset_type {args.dataset_type}); use it as '
          'model.augmenter.op_net_ckpt with backend="neural"')


if __name__ == '__main__':
    run_friendly(main)
