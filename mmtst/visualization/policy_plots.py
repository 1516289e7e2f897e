"""Pictures of TST's learned policy and of what the augmenter produces."""
import glob
import json
import os.path as osp
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

Trajectory = Dict[str, List[Tuple[int, float]]]


@dataclass
class PolicyRecord:
    """The policy logged once: at the student iteration ``step``, before
    any update (``initial``) or after an augmenter pass."""
    step: int
    initial: bool
    values: Dict[str, float]


def read_policy_records(work_dir: str) -> List[PolicyRecord]:
    """The policies a TST run logged, in order, from the ``scalars.json``
    files mmengine's LocalVisBackend wrote in ``work_dir`` (the augmenter
    logs ``augmenter.p_<op>`` / ``augmenter.m_<op>`` before its first
    update and after every phase pass).

    A resumed run has one file per launch. A launch resumed from a
    checkpoint redoes what the earlier launch did after that checkpoint
    (a phase that ran after it included, from the policy the checkpoint
    holds), so the earlier launch's records from the resumed launch's
    first step on are dropped: they are not the run's history."""
    files = sorted(
        glob.glob(
            osp.join(work_dir, '**', 'vis_data', 'scalars.json'),
            recursive=True))
    if not files:
        raise FileNotFoundError(
            f'no vis_data/scalars.json under {work_dir!r}: '
            'is it the work dir of a TST run?')
    records: List[PolicyRecord] = []
    for path in files:
        launch = []
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:  # torn last line of a kill
                    continue
                values = {
                    key[len('augmenter.'):]: float(value)
                    for key, value in record.items()
                    if key.startswith(('augmenter.p_', 'augmenter.m_'))
                }
                if values:
                    launch.append(
                        PolicyRecord(
                            int(record.get('step', 0)),
                            bool(record.get('augmenter.initial')), values))
        if launch:
            records = [r for r in records if r.step < launch[0].step]
            records += launch
    if not records:
        raise ValueError(f'{work_dir!r} has no augmenter policy scalars: the '
                         'run had no augmenter phase yet')
    return records


def read_policy_trajectories(work_dir: str) -> Trajectory:
    """``{'p_Rotate': [(iteration, value), ...], 'm_Rotate': ...}``."""
    trajectories: Trajectory = defaultdict(list)
    for record in read_policy_records(work_dir):
        for key, value in record.values.items():
            trajectories[key].append((record.step, value))
    return dict(trajectories)


def plot_policy(records: List[PolicyRecord],
                out: str,
                columns: int = 7) -> str:
    """Small multiples: one panel per op with its probability p (solid)
    and magnitude m (dashed) after each augmenter pass; the hollow marker
    is the initial policy and the dotted lines separate the phases (each
    labelled with the student iteration it ran at)."""
    ops = sorted({key[2:] for record in records for key in record.values})
    rows = (len(ops) + columns - 1) // columns
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(2.3 * columns, 2.2 * rows),
        sharex=True,
        sharey=True,
        squeeze=False)
    x = np.arange(len(records))
    starts = [
        i for i in range(1, len(records))
        if records[i].step != records[i - 1].step
    ]
    for ax, op in zip(axes.flat, ops):
        for prefix, style, label in (('p_', '-', 'p'), ('m_', '--', 'm')):
            values = [r.values.get(prefix + op, np.nan) for r in records]
            if np.all(np.isnan(values)):
                continue  # probability-only ops (e.g. Invert) have no m
            line, = ax.plot(
                x, values, style, marker='.', markersize=4, label=label)
            initial = [i for i, r in enumerate(records) if r.initial]
            ax.plot(
                initial, [values[i] for i in initial],
                'o',
                markerfacecolor='white',
                color=line.get_color())
        for start in starts:
            ax.axvline(start - 0.5, color='grey', linestyle=':', linewidth=1)
        ax.set_title(op, fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(ops):]:
        ax.axis('off')
    for ax in axes[-1]:
        ax.set_xlabel('augmenter pass', fontsize=8)
    axes[0, 0].legend(fontsize=7, loc='best')
    phases = sorted({r.step for r in records})
    fig.suptitle(
        'TST policy per op (o: initial; dotted: phases at student '
        f'iterations {", ".join(map(str, phases))})',
        fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def fired_ops(draws: List[Tuple[str, torch.Tensor]],
              index: int,
              threshold: float = 0.5) -> str:
    """The ops that fired on image ``index`` (gate >= ``threshold``) in an
    augmenter's ``last_draws``, one per line, or ``'-'``."""
    names = [name for name, gate in draws if float(gate[index]) >= threshold]
    return '\n'.join(names) or '-'


def _draw_annotation(ax, annotation, kind: str) -> None:
    """Boxes (K, 4) xyxy as outlines, or a label map (H, W) as a
    translucent overlay (ignore index 255 left clear)."""
    if annotation is None:
        return
    if kind == 'boxes':
        for x1, y1, x2, y2 in annotation.tolist():
            ax.add_patch(
                plt.Rectangle((x1 - 0.5, y1 - 0.5),
                              x2 - x1,
                              y2 - y1,
                              fill=False,
                              edgecolor='lime',
                              linewidth=0.8))
    else:
        labels = annotation.cpu().numpy().astype(float)
        labels[labels == 255] = np.nan
        ax.imshow(labels, cmap='tab20', vmin=0, vmax=20, alpha=0.45)


def sample_grid(original: torch.Tensor,
                augmented: torch.Tensor,
                out: str,
                columns: int = 8,
                labels: Optional[List[str]] = None,
                annotations: Optional[list] = None,
                annotation_kind: Optional[str] = None) -> str:
    """Save originals (odd rows) above their augmented versions (even
    rows); images are (N, C, H, W) in [0, 1]. ``labels`` (one per image,
    e.g. the ops that fired) are written under each augmented image;
    ``annotations`` (one ``(original, augmented)`` pair per image) are
    drawn on both: boxes (``annotation_kind='boxes'``) or label maps
    (``'label_maps'``)."""
    num = min(original.size(0), columns * 4)
    rows = (num + columns - 1) // columns
    fig, axes = plt.subplots(
        rows * 2, columns, figsize=(columns * 1.3, rows * 2.6))
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
            if annotations is not None:
                _draw_annotation(ax, annotations[i][offset], annotation_kind)
            if offset and labels is not None:
                ax.text(
                    0.5,
                    -0.04,
                    labels[i],
                    transform=ax.transAxes,
                    ha='center',
                    va='top',
                    fontsize=5)
    axes[0, 0].set_title('original / augmented', fontsize=7, loc='left')
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
