"""Generate the Fashion-MNIST scenes detection data set (COCO format).

Real Fashion-MNIST objects pasted onto procedural backgrounds with exact
boxes and instance masks; deterministic in --seed. See
``mmtst/datasets/scenes.py``.

Usage:
    python tools/dataset_converters/make_scenes.py data/fmnist_scenes \
        --train 2000 --val 200 [--seed 0] [--size 96] [--source DIR] \
        [--semantic]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.datasets.fashion_mnist import DEBIAN_FASHION_MNIST
from mmtst.datasets.scenes import make_scenes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output folder (data_root)')
    parser.add_argument(
        '--train', type=int, default=2000, help='number of training scenes')
    parser.add_argument(
        '--val', type=int, default=200, help='number of validation scenes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, default=96, help='image side, px')
    parser.add_argument('--max-objects', type=int, default=3)
    parser.add_argument(
        '--source',
        default=DEBIAN_FASHION_MNIST,
        help='folder of the Fashion-MNIST idx(.gz) files')
    parser.add_argument(
        '--semantic',
        action='store_true',
        help='also write semantic label maps (mmseg) under '
        'semantic/{split}/')
    args = parser.parse_args()
    for split, num in (('train', args.train), ('val', args.val)):
        path = make_scenes(
            args.out_dir,
            split,
            num,
            args.size,
            args.max_objects,
            args.seed,
            args.source,
            semantic=args.semantic)
        print(f'wrote {num} {split} scenes: {path}')


if __name__ == '__main__':
    run_friendly(main)
