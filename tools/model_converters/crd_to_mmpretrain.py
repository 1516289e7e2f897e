"""Convert a RepDistiller (CRD) CIFAR-100 checkpoint to an mmpretrain one.

CRD (Tian et al., "Contrastive Representation Distillation", ICLR 2020,
github.com/HobbitLong/RepDistiller) released the CIFAR-100 teachers that
DKD and TST distil from (``scripts/fetch_pretrained_teachers.sh``), saved as
``{'model': state_dict, 'epoch': ..., ...}``. mmtst's CIFAR backbones keep
CRD's module names, so the conversion only

* prefixes the feature extractor's keys with ``backbone.``,
* renames the classifier (``fc`` for ResNets and WRNs, ``classifier`` for
  VGGs, ``classifier.0`` for MobileNetV2, ``linear`` for ShuffleNets) to
  ``head.fc``,
* adds the BatchNorm ``num_batches_tracked`` counters that checkpoints
  written by PyTorch < 0.4.1 lack.

The output, ``{'state_dict': ..., 'meta': ...}``, is written atomically and
loads with ``strict=True`` into the matching config of
``configs/_base_/models/cifar100_classifiers.py`` (e.g.
``configs/teachers/cifar100/resnet32x4_1xb64-240e_cifar100.py``); use it as a
distiller's ``model.teacher_ckpt``.

Usage:
    python tools/model_converters/crd_to_mmpretrain.py \\
        save/models/resnet32x4_vanilla/ckpt_epoch_240.pth \\
        checkpoints/cifar100/resnet32x4.pth \\
        [--config configs/teachers/cifar100/resnet32x4_1xb64-240e_cifar100.py]
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, Optional

import torch

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.utils import (extract_state_dict, load_checkpoint_file,
                         save_atomically)

# CRD's classifier names, most specific first ('classifier.0.' before
# 'classifier.').
CLASSIFIER_PREFIXES = ('classifier.0.', 'classifier.', 'linear.', 'fc.')


def find_classifier(state: Dict[str, torch.Tensor]) -> str:
    """The key prefix of CRD's final linear layer in ``state``."""
    found = []
    for prefix in CLASSIFIER_PREFIXES:
        keys = [k for k in state if k.startswith(prefix)]
        if prefix == 'classifier.' and 'classifier.0.' in found:
            continue
        if keys:
            found.append(prefix)
    if len(found) != 1:
        raise ValueError(
            'Cannot tell the classifier of this checkpoint: expected the keys '
            'of exactly one of ' + ', '.join(p + 'weight'
                                             for p in CLASSIFIER_PREFIXES) +
            f', found {found or "none"}. Is it a RepDistiller CIFAR '
            'checkpoint? Name it with --classifier.')
    return found[0]


def convert(
        state: Dict[str, torch.Tensor],
        classifier: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """CRD state dict -> mmpretrain ImageClassifier state dict."""
    if not state:
        raise ValueError('The checkpoint holds no weights.')
    prefix = classifier if classifier is not None else find_classifier(state)
    if not prefix.endswith('.'):
        prefix += '.'
    head = {k[len(prefix):] for k in state if k.startswith(prefix)}
    if head != {'weight', 'bias'}:
        raise ValueError(
            f'The classifier {prefix[:-1]!r} should be one linear layer '
            f'(weight and bias), found {sorted(head) or "nothing"}.')
    converted = OrderedDict()
    for key, value in state.items():
        if key.startswith(prefix):
            converted['head.fc.' + key[len(prefix):]] = value
        else:
            converted['backbone.' + key] = value
    for key in list(converted):
        if key.endswith('.running_mean'):
            counter = key[:-len('running_mean')] + 'num_batches_tracked'
            converted.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return converted


def check_loads(state: Dict[str, torch.Tensor], config: str) -> str:
    """Build the classifier of ``config`` (a distiller config: its teacher)
    and load ``state`` into it with ``strict=True``; return its name."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model
    if str(model_cfg.get('type', '')).endswith('Distiller'):
        model_cfg = model_cfg.teacher
    model = MODELS.build(model_cfg)
    model.load_state_dict(state, strict=True)
    return f'{model_cfg.backbone.type}({model_cfg.backbone.get("arch", "")})'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'src',
        help='RepDistiller checkpoint, e.g. '
        'save/models/resnet32x4_vanilla/ckpt_epoch_240.pth')
    parser.add_argument('dst', help='output mmpretrain checkpoint (.pth)')
    parser.add_argument(
        '--classifier',
        choices=[p[:-1] for p in CLASSIFIER_PREFIXES],
        help='name of the classifier layer (default: found '
        'from the keys)')
    parser.add_argument(
        '--config',
        help='check that the result loads '
        'strictly into this config\'s model (a distiller '
        'config: its teacher)')
    parser.add_argument(
        '--allow-unsafe-checkpoint',
        action='store_true',
        help='allow a checkpoint that needs arbitrary '
        'unpickling, e.g. CRD\'s *_last.pth, which holds the '
        'argparse options (only for files you trust)')
    args = parser.parse_args()
    checkpoint = load_checkpoint_file(
        args.src,
        allow_unsafe=args.allow_unsafe_checkpoint,
        what='CRD checkpoint')
    state = convert(extract_state_dict(checkpoint), args.classifier)
    checked = check_loads(state, args.config) if args.config else None
    meta = dict(
        converted_by='mmtst crd_to_mmpretrain', source=osp.basename(args.src))
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('epoch'), int):
        meta['epoch'] = checkpoint['epoch']
    save_atomically(dict(state_dict=state, meta=meta), args.dst)
    print(f'wrote {args.dst} ({len(state)} tensors)' +
          (f'; loads strictly into {checked} of {args.config}'
           if checked else ''))


if __name__ == '__main__':
    run_friendly(main)
