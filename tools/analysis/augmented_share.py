"""What TST's augmenter does to the data at the start of training.

Runs a freshly initialised ``LearnableAugmentPolicy`` (p = m = 0.5, as at
the start of training) over Fashion-MNIST test images in training mode and
prints the share of samples whose augmented copy differs from the original
by more than one grey level somewhere, and the share of batches the
augmenter left entirely unchanged (every picked op's gate closed: with
per-batch gates a whole batch can be). With ``--config`` and
``--teacher-ckpt`` it also prints the teacher's top-1 on the clean and on
the augmented images: TST looks for samples the teacher still gets right,
so an augmenter that makes the teacher wrong teaches its mistakes. Policy
settings are given as ``key=value`` (e.g. ``neural_apply_prob=0.5
gate_granularity=sample``).

    python tools/analysis/augmented_share.py [--passes 8] [key=value ...]
    python tools/analysis/augmented_share.py --config CONFIG \\
        --teacher-ckpt TEACHER.pth [key=value ...]
"""
import argparse
import ast
import gzip
import os.path as osp
import sys

import numpy as np
import torch

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmtst.models.augmenters import LearnableAugmentPolicy

FASHION_MNIST_TEST = ('/usr/share/datasets/fashion-mnist/'
                      't10k-images-idx3-ubyte.gz')
FASHION_MNIST_MEAN = 72.94  # the quick start's preprocessor mean (0..255)


def read_idx(path: str, offset: int) -> np.ndarray:
    """The bytes of an idx .gz file after its header."""
    if not osp.isfile(path):
        sys.exit(
            f'augmented_share: error: {path} not found; install Debian\'s '
            'dataset-fashion-mnist (tools/setup_env.sh does) or pass --images')
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_images(path: str) -> torch.Tensor:
    """(N, 1, 28, 28) float images in [0, 1] from an idx3 .gz file."""
    data = read_idx(path, 16)
    return torch.from_numpy(data.reshape(-1, 1, 28, 28).copy()).float() / 255


def teacher_top1(config: str, teacher_ckpt: str, policy, images: torch.Tensor,
                 labels: torch.Tensor, batch: int):
    """The config's teacher's top-1 (%) on ``images`` and on their
    augmented copies (one draw each, through the distiller's augment())."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmtst.models  # noqa: F401  (registers mmtst's modules)
    from mmtst.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(
        dict(
            cfg.model,
            teacher_ckpt=teacher_ckpt,
            augmenter=None,
            _scope_='mmtst')).eval()
    model.augmenter = policy
    correct = {'clean': 0, 'augmented': 0}
    with torch.no_grad():
        for start in range(0, len(images), batch):
            pixels = images[start:start + batch] * 255
            target = labels[start:start + batch]
            for kind, x in (('clean', pixels), ('augmented',
                                                model.augment(pixels))):
                predicted = model.logits(x, 'teacher').argmax(1)
                correct[kind] += (predicted == target).sum().item()
    return {k: 100 * v / len(images) for k, v in correct.items()}


def parse_setting(text: str):
    key, _, value = text.partition('=')
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def measure(policy, images: torch.Tensor, batch: int, passes: int):
    """Per-batch shares of samples changed by more than 1/255."""
    shares = []
    with torch.no_grad():
        for _ in range(passes):
            for start in range(0, len(images) - batch + 1, batch):
                x = images[start:start + batch]
                changed = (policy(x) - x).abs().flatten(1).amax(1) > 1 / 255
                shares.append(changed.float().mean().item())
    return np.array(shares)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('settings', nargs='*', help='policy key=value')
    parser.add_argument('--images', default=FASHION_MNIST_TEST)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--passes', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--limit', type=int, help='use only the first LIMIT test images')
    parser.add_argument('--config', help='a Fashion-MNIST distiller config')
    parser.add_argument('--teacher-ckpt', help="the config's teacher weights")
    args = parser.parse_args(argv)
    if bool(args.config) != bool(args.teacher_ckpt):
        parser.error('--config and --teacher-ckpt go together')
    settings = dict(
        dict(backend='neural', cutout_size=8),
        **dict(map(parse_setting, args.settings)))
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    policy = LearnableAugmentPolicy(**settings).train()
    policy.set_dataset_mean([FASHION_MNIST_MEAN])
    images = load_images(args.images)[:args.limit]
    shares = measure(policy, images, args.batch, args.passes)
    print(f'policy: {settings}')
    print(f'batches: {len(shares)} of {args.batch}; samples changed: '
          f'{100 * shares.mean():.1f}%; batches left unchanged: '
          f'{100 * np.mean(shares == 0):.1f}%')
    if args.config:
        labels = torch.from_numpy(
            read_idx(args.images.replace('images-idx3', 'labels-idx1'),
                     8).copy()).long()[:len(images)]
        top1 = teacher_top1(args.config, args.teacher_ckpt, policy, images,
                            labels, args.batch)
        print(f"teacher top-1: clean {top1['clean']:.2f}%, augmented "
              f"{top1['augmented']:.2f}%")
    return 0


if __name__ == '__main__':
    sys.exit(main())
