"""Fit TST's neural op nets (stage I of the paper) and write one checkpoint.

TST (Shao et al., "Teaching What You Should Teach: A Data-Based Distillation
Method", IJCAI 2023, Sec. 3.2) replaces each of the 11 AutoAugment ops that
have a magnitude by a tiny network fitted beforehand to imitate the real op,
so that the augmenter is differentiable in the magnitude. This tool fits all
of them (``mmtst.models.augmenters.op_nets``, fitting loop in
``mmtst.models.augmenters.op_net_fitting``) with MSE against
torchvision's ops on real images and writes a plain ``NeuralOpBank``
state dict, then prints each op's imitation error on held-out images.

Data (``--data``):

* ``fashion-mnist``: the idx ``.gz`` files in ``--fashion-mnist-root``
  (grey 28x28). Geometric ops are fitted on the grey images. Colour ops are
  fitted on "tinted Fashion-MNIST": each grey image times a random colour
  (per-channel factors in [0.2, 1], the largest rescaled to 1), rounded to
  the uint8 grid, so that saturation (Color) has something to act on.
  Training images are drawn from the training split, held-out images from
  the test split.
* ``folder:PATH``: every image under PATH (recursively), RGB, random
  ``--size`` crops (images smaller than that are upscaled first); about 10%
  of the files are held out for the error table.

Magnitudes: per sample, ``u ~ U[0, 1)``, bin ``k = floor(10 u)``,
``m = k / 9`` (torchvision's 10 AutoAugment bins), a random sign for signed
ops; the net and the real op both get ``m``. AdamW (lr 1e-3),
ExponentialLR (gamma 0.999) stepped every iteration, batch 64. The defaults
(10 epochs over 10,000 images, 1,560 iterations per op) take about 2
minutes on one CPU thread; keep ``--threads`` at or below the idle cores.

Example::

    python tools/fit_op_nets.py --data fashion-mnist \\
        --out mmtst/models/augmenters/weights/op_nets_fashion_mnist.pth
"""
import argparse
import gzip
import os
import os.path as osp
import shlex
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

try:
    import mmtst  # noqa: F401
except ImportError:  # run from a checkout that is not installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmtst.models.augmenters.neural_ops import NeuralOpBank
from mmtst.models.augmenters.op_net_fitting import (count_parameters,
                                                    fit_op_net,
                                                    imitation_error)
from mmtst.models.augmenters.op_specs import (MAGNITUDE_OPS, OP_SPECS,
                                              check_op_names)
from mmtst.utils import save_atomically

FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist'
EVAL_MAGNITUDES = (0.25, 0.5, 1.0)
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff',
                    '.ppm', '.pgm')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fit the neural op nets of TST (stage I) and write one '
        'checkpoint.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--data',
        default='fashion-mnist',
        help="'fashion-mnist' or 'folder:PATH' (any folder of images)")
    parser.add_argument(
        '--out',
        required=True,
        help='checkpoint to write (a plain NeuralOpBank state dict)')
    parser.add_argument(
        '--report',
        default=None,
        help='optional Markdown file to write the command, wall time and '
        'error table to')
    parser.add_argument(
        '--ops',
        nargs='+',
        default=list(MAGNITUDE_OPS),
        help='ops to fit (the checkpoint then holds only these)')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument(
        '--num-images',
        type=int,
        default=10000,
        help='training images (crops for folder data)')
    parser.add_argument(
        '--num-eval', type=int, default=1000, help='held-out images')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument(
        '--gamma',
        type=float,
        default=0.999,
        help='ExponentialLR decay per iteration')
    parser.add_argument(
        '--noise-std',
        type=float,
        default=0.01,
        help='feature noise of the nets during fitting')
    parser.add_argument(
        '--size', type=int, default=32, help='crop size for folder data')
    parser.add_argument(
        '--fashion-mnist-root',
        default=FASHION_MNIST_ROOT,
        help='folder with the Fashion-MNIST idx .gz files')
    # 1 by default: the tensors are tiny, and with 2 threads on 2 busy cores
    # an iteration took 0.5-1.6 s instead of 40 ms (threads spin-waiting)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch threads; more than the idle cores slows fitting badly')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def read_idx_images(path: str) -> np.ndarray:
    """uint8 images ``(N, H, W)`` of an idx3 file (gzipped or not)."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic, num, rows, cols = np.frombuffer(data[:16], dtype='>u4')
    if magic != 2051:
        raise ValueError(f'{path} is not an idx3 image file (magic {magic})')
    images = np.frombuffer(data, dtype=np.uint8, offset=16)
    return images.reshape(int(num), int(rows), int(cols))


def tint(grey: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """3-channel copies of grey images ``(N, 1, H, W)``, each times a random
    colour (per-channel factors in [0.2, 1], largest rescaled to 1), rounded
    to the uint8 grid like real 8-bit images."""
    colour = 0.2 + 0.8 * torch.rand(len(grey), 3, 1, 1, generator=generator)
    colour = colour / colour.amax(dim=1, keepdim=True)
    return (grey * colour * 255.0).round() / 255.0


def load_fashion_mnist(root: str, num_train: int, num_eval: int,
                       generator: torch.Generator) -> Dict[str, torch.Tensor]:
    """Grey and tinted training / held-out images, float in [0, 1]."""
    paths = {
        split: osp.join(root, f'{split}-images-idx3-ubyte.gz')
        for split in ('train', 't10k')
    }
    for path in paths.values():
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path} not found; pass --fashion-mnist-root or use '
                '--data folder:PATH')
    data = {}
    for split, key, num in (('train', 'train', num_train), ('t10k', 'eval',
                                                            num_eval)):
        images = torch.from_numpy(read_idx_images(paths[split]).copy())
        if num > len(images):
            raise ValueError(f'asked for {num} {split} images, '
                             f'{paths[split]} has {len(images)}')
        pick = torch.randperm(len(images), generator=generator)[:num]
        grey = images[pick].unsqueeze(1).float() / 255.0
        data[f'{key}_grey'] = grey
        data[f'{key}_colour'] = tint(grey, generator)
    return data


def list_images(folder: str) -> List[str]:
    files = []
    for root, _, names in os.walk(folder):
        files += [
            osp.join(root, name) for name in names
            if name.lower().endswith(IMAGE_EXTENSIONS)
        ]
    return sorted(files)


def random_crops(files: Sequence[str], num: int, size: int,
                 generator: torch.Generator) -> torch.Tensor:
    """``num`` RGB ``size`` x ``size`` crops spread evenly over ``files``
    (each file decoded once)."""
    from PIL import Image
    per_file = -(-num // len(files))
    crops = []
    for path in files:
        with Image.open(path) as img:
            img = img.convert('RGB')
            if min(img.size) < size:
                scale = size / min(img.size)
                img = img.resize((max(size, round(
                    img.width * scale)), max(size, round(img.height * scale))),
                                 Image.BILINEAR)
            array = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1)
        for _ in range(per_file):
            top = int(
                torch.randint(
                    0, array.shape[1] - size + 1, (1, ), generator=generator))
            left = int(
                torch.randint(
                    0, array.shape[2] - size + 1, (1, ), generator=generator))
            crops.append(array[:, top:top + size, left:left + size])
        if len(crops) >= num:
            break
    return torch.stack(crops[:num]).float() / 255.0


def load_folder(folder: str, size: int, num_train: int, num_eval: int,
                generator: torch.Generator) -> Dict[str, torch.Tensor]:
    """RGB crops of a folder of images; ~10% of the files held out."""
    files = list_images(folder)
    if not files:
        raise FileNotFoundError(
            f'no images ({", ".join(IMAGE_EXTENSIONS)}) under {folder}')
    order = torch.randperm(len(files), generator=generator).tolist()
    files = [files[i] for i in order]
    num_held = max(1, len(files) // 10) if len(files) > 1 else 0
    if num_held == 0:
        print(f'warning: {folder} has one image; held-out crops come from '
              'it too')
    held, train = files[:num_held] or files, files[num_held:]
    train_crops = random_crops(train, num_train, size, generator)
    eval_crops = random_crops(held, num_eval, size, generator)
    return {
        'train_grey': train_crops,
        'train_colour': train_crops,
        'eval_grey': eval_crops,
        'eval_colour': eval_crops,
    }


def load_data(args: argparse.Namespace,
              generator: torch.Generator) -> Dict[str, torch.Tensor]:
    if args.data == 'fashion-mnist':
        return load_fashion_mnist(args.fashion_mnist_root, args.num_images,
                                  args.num_eval, generator)
    if args.data.startswith('folder:'):
        return load_folder(args.data[len('folder:'):], args.size,
                           args.num_images, args.num_eval, generator)
    raise ValueError(f"--data must be 'fashion-mnist' or 'folder:PATH', "
                     f'got {args.data!r}')


def images_for(name: str, data: Dict[str, torch.Tensor],
               split: str) -> torch.Tensor:
    """Colour ops get the (tinted) colour images, geometric ops the grey."""
    kind = 'colour' if OP_SPECS[name].kind == 'colour' else 'grey'
    return data[f'{split}_{kind}']


# ---------------------------------------------------------------------------
# Fitting, report, checkpoint
# ---------------------------------------------------------------------------


def fit_all(args: argparse.Namespace, data: Dict[str, torch.Tensor],
            generator: torch.Generator) -> Tuple[NeuralOpBank, List[dict]]:
    """Fit every op's net; return the bank and one record per op."""
    ops = check_op_names(args.ops)
    # gate off while fitting: every sample must be transformed
    bank = NeuralOpBank(ops, noise_std=args.noise_std, apply_prob=1.0)
    records = []
    for name in ops:
        net = bank.net(name)
        start = time.time()
        losses = fit_op_net(
            net,
            name,
            images_for(name, data, 'train'),
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            gamma=args.gamma,
            generator=generator)
        seconds = time.time() - start
        # same held-out signs for every op
        eval_gen = torch.Generator().manual_seed(args.seed + 1)
        errors = [
            imitation_error(net, name, images_for(name, data, 'eval'), m,
                            eval_gen) for m in EVAL_MAGNITUDES
        ]
        tail = losses[-min(50, len(losses)):]
        records.append(
            dict(
                op=name,
                params=count_parameters(net),
                seconds=seconds,
                iters=len(losses),
                first_loss=losses[0],
                final_loss=float(np.mean(tail)),
                errors=errors))
        print(
            f'{name}: {len(losses)} iterations in {seconds:.1f} s, '
            f'loss {losses[0]:.5f} -> {records[-1]["final_loss"]:.6f}',
            flush=True)
    return bank, records


def format_table(records: List[dict]) -> str:
    """Markdown table: MAE of net vs real op and relative to |op(x) - x|."""
    head = ['op', 'params', 'iters', 'fit s', 'final MSE']
    for m in EVAL_MAGNITUDES:
        head += [f'MAE m={m}', f'rel m={m}']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for r in records:
        row = [
            r['op'],
            str(r['params']),
            str(r['iters']), f'{r["seconds"]:.1f}', f'{r["final_loss"]:.2e}'
        ]
        for err_net, err_id in r['errors']:
            rel = err_net / err_id if err_id > 0 else float('nan')
            row += [f'{err_net:.4f}', f'{rel:.2f}']
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def write_report(path: str, args: argparse.Namespace, command: str,
                 wall: float, table: str) -> None:
    text = (f'# Neural op nets: `{osp.basename(args.out)}`\n\n'
            f'Command (wall time {wall:.0f} s, {args.threads} thread(s)):\n\n'
            f'```\n{command}\n```\n\n'
            f'Imitation error on {args.num_eval} held-out images: MAE is the '
            'mean absolute difference between the net and the real op in '
            '[0, 1] pixel units; rel divides it by the op\'s own mean change '
            '|op(x) - x| (1.0 = no better than leaving the image alone).\n\n'
            f'{table}\n')
    with open(path, 'w') as f:
        f.write(text)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # the nets' initial values
    generator = torch.Generator().manual_seed(args.seed)
    start = time.time()
    data = load_data(args, generator)
    bank, records = fit_all(args, data, generator)
    save_atomically(bank.state_dict(), args.out)
    wall = time.time() - start
    table = format_table(records)
    print(f'\nImitation error on {args.num_eval} held-out images (MAE in '
          '[0, 1] pixel units; rel = MAE / mean |op(x) - x|):\n')
    print(table)
    print(f'\nwrote {args.out} ({osp.getsize(args.out)} bytes) in '
          f'{wall:.0f} s')
    if args.report:
        command = 'python ' + ' '.join(
            shlex.quote(a) for a in [osp.relpath(__file__)] +
            list(sys.argv[1:] if argv is None else argv))
        write_report(args.report, args, command, wall, table)


if __name__ == '__main__':
    main()
