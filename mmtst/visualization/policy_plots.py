"""Pictures of TST's learned policy and of what the augmenter produces."""
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

Trajectory = Dict[str, List[Tuple[int, float]]]


def read_policy_trajectories(work_dir: str) -> Trajectory:
    """``{'p_Rotate': [(iteration, value), ...], 'm_Rotate': ...}`` from the
    ``scalars.json`` files mmengine's LocalVisBackend wrote in ``work_dir``
    (the augmenter logs ``augmenter.p_<op>`` / ``augmenter.m_<op>`` after
    every phase pass)."""
    files = sorted(glob.glob(osp.join(work_dir, '**', 'vis_data', 'scalars.json'),
                             recursive=True))
    if not files:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir!r}: '
                                'is it the work dir of a TST run?')
    trajectories: Trajectory = defaultdict(list)
    for path in files:
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                for key, value in record.items():
                    if key.startswith(('augmenter.p_', 'augmenter.m_')):
                        trajectories[key[len('augmenter.'):]].append(
                            (int(record.get('step', 0)), float(value)))
    if not trajectories:
        raise ValueError(f'{work_dir!r} has no augmenter policy scalars: the '
                         'run had no augmenter phase yet')
    return dict(trajectories)


def plot_policy(trajectories: Trajectory, out: str) -> str:
    """Plot p (left) and m (right) of every op against the iteration."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharex=True)
    # one colour per op in both panels (the probability-only ops, e.g.
    # Invert, appear on the left only), and the legend where all ops are
    ops = sorted({key[2:] for key in trajectories
                  if key.startswith(('p_', 'm_'))})
    palette = plt.get_cmap('tab20')
    colour = {op: palette(i % 20) for i, op in enumerate(ops)}
    for ax, prefix, title in ((axes[0], 'p_', 'probability p'),
                              (axes[1], 'm_', 'magnitude m')):
        for key in sorted(k for k in trajectories if k.startswith(prefix)):
            steps, values = zip(*sorted(trajectories[key]))
            op = key[len(prefix):]
            ax.plot(steps, values, marker='o', markersize=3, label=op,
                    color=colour[op])
        ax.set_title(f'TST policy: {title}')
        ax.set_xlabel('student iteration')
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2, loc='best')
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def sample_grid(original: torch.Tensor, augmented: torch.Tensor, out: str,
                columns: int = 8) -> str:
    """Save originals (odd rows) above their augmented versions (even
    rows); images are (N, C, H, W) in [0, 1]."""
    num = min(original.size(0), columns * 4)
    rows = (num + columns - 1) // columns
    fig, axes = plt.subplots(rows * 2, columns,
                             figsize=(columns * 1.3, rows * 2.6))
    axes = np.atleast_2d(axes)
    for ax in axes.flat:
        ax.axis('off')
    for i in range(num):
        r, c = divmod(i, columns)
        for offset, batch in ((0, original), (1, augmented)):
            img = batch[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu()
            ax = axes[2 * r + offset, c]
            if img.shape[-1] == 1:
                ax.imshow(img[..., 0].numpy(), cmap='gray', vmin=0, vmax=1)
            else:
                ax.imshow(img.numpy())
    axes[0, 0].set_title('original / augmented', fontsize=7, loc='left')
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
