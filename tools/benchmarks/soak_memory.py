"""Soak run: train TST for thousands of iterations and watch resources.

Trains a config through the same runner as tools/train.py (augmenter
phases every few epochs and interleaved augmenter steps included, with
persistent loader workers by default), and every few iterations samples
the process's resident memory (RSS), its open file descriptors, its child
processes (the loader workers) and the hooks attached to the model's
modules; then prints whether any of them grew after warm-up. A leak shows
as a steady RSS slope (tensors kept in a cache or a log), a growing hook
count (hooks left on modules after an augmenter step), or growing
descriptors / children (loader workers started for each augmenter phase
and never joined).

Usage (Fashion-MNIST quick-start TST, a random frozen teacher):
    python tools/benchmarks/soak_memory.py --iters 2000
    python tools/benchmarks/soak_memory.py CONFIG --iters 300 \\
        --cfg-options model.teacher_ckpt=teacher.pth
"""
import argparse
import gc
import json
import math
import os
import os.path as osp
import sys
import tempfile
import time

from mmengine.config import DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from mmtst.benchmarks.step_cost import proc_status_mb

DEFAULT_CONFIG = 'configs/quickstart/tst_resnet20_resnet8_1xb128-4e_fmnist.py'


def rss_mb() -> float:
    """Resident set size of this process, MB (Linux /proc)."""
    rss = proc_status_mb('VmRSS')
    if rss is None:
        raise RuntimeError('no VmRSS in /proc/self/status (Linux only)')
    return rss


def open_descriptors() -> int:
    """File descriptors this process holds open (Linux /proc)."""
    return len(os.listdir('/proc/self/fd'))


def child_processes() -> int:
    """Live (not zombie) processes whose parent is this one: the loader
    workers, and any other children the caller already had (see
    ``children_before`` in the summary)."""
    me, count = str(os.getpid()), 0
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                # pid (comm) state ppid ...; comm may hold spaces
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        count += fields[1] == me and fields[0] != 'Z'
    return count


def module_hooks(model) -> int:
    """Forward / pre-forward / backward hooks on all modules of ``model``."""
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) +
        len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules())


def slope_per_100(samples) -> float:
    """Least-squares slope of RSS (MB) per 100 iterations."""
    xs = [s['iter'] for s in samples]
    ys = [s['rss_mb'] for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx)**2 for x in xs)
    if var == 0:
        return 0.0
    return 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var


def make_sampler_hook(every: int, samples: list):
    from mmengine.hooks import Hook
    from mmengine.model import is_model_wrapper

    class MemorySampler(Hook):
        priority = 'LOWEST'

        def after_train_iter(self,
                             runner,
                             batch_idx,
                             data_batch=None,
                             outputs=None):
            step = runner.iter + 1
            if step % every == 0:
                model = runner.model
                model = model.module if is_model_wrapper(model) else model
                samples.append(
                    dict(
                        iter=step,
                        rss_mb=rss_mb(),
                        hooks=module_hooks(model),
                        fds=open_descriptors(),
                        children=child_processes(),
                        time=time.time()))

    return MemorySampler()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--iters',
        type=int,
        default=400,
        help='student iterations to run (rounded up to '
        'whole epochs)')
    parser.add_argument(
        '--every',
        type=int,
        default=10,
        help='sample memory every this many iterations')
    parser.add_argument(
        '--warmup',
        type=float,
        default=0.25,
        help='fraction of the run left out of the slope')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--images',
        type=int,
        default=2048,
        help='training subset (Fashion-MNIST configs)')
    parser.add_argument(
        '--interleave',
        type=int,
        default=4,
        help='an augmenter step every N student iterations')
    parser.add_argument(
        '--phase-every',
        type=int,
        default=10,
        help='an augmenter phase (one pass) before every N-th epoch')
    parser.add_argument(
        '--workers',
        type=int,
        default=2,
        help='train loader workers (persistent when > 0, as the '
        'shipped configs have them)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--json', help='also write the samples here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='key=value overrides, as in '
        'tools/train.py')
    return parser.parse_args(argv)


def build_config(args, work_dir: str):
    from mmengine.config import Config

    from mmtst.apis import prepare_config
    cfg = Config.fromfile(osp.join(ROOT, args.config))
    per_epoch = math.ceil(args.images / args.batch_size)
    epochs = math.ceil(args.iters / per_epoch)
    options = {
        'train_dataloader.dataset.indices':
        args.images,
        'train_dataloader.batch_size':
        args.batch_size,
        'train_dataloader.num_workers':
        args.workers,
        'train_dataloader.persistent_workers':
        args.workers > 0,
        'train_cfg.max_epochs':
        epochs,
        # phases all along the run (each one iterates the train loader and
        # its persistent workers) and interleaved steps in between
        'train_cfg.phases_at_epochs':
        list(range(0, epochs, max(args.phase_every, 1))),
        'train_cfg.passes_per_phase':
        1,
        'train_cfg.interleave_interval':
        args.interleave,
        'default_hooks.logger.interval':
        50,
        'default_hooks.checkpoint.interval':
        10**6,
        'model.allow_random_teacher':
        True,
        'model.teacher_ckpt':
        None,
    }
    options.update(args.cfg_options)
    return prepare_config(
        cfg,
        args.config,
        work_dir=work_dir,
        no_validate=True,
        cfg_options=options)


def summarize(samples, warmup: float, iters: int) -> dict:
    steady = [s for s in samples if s['iter'] > warmup * iters] or samples
    first, last = steady[0], steady[-1]
    # RSS swings by tens of MB from batch to batch (allocator reuse), so
    # growth compares the means of the first and last quarters after
    # warm-up rather than two single samples
    quarter = max(len(steady) // 4, 1)
    early = sum(s['rss_mb'] for s in steady[:quarter]) / quarter
    late = sum(s['rss_mb'] for s in steady[-quarter:]) / quarter
    return dict(
        iters=samples[-1]['iter'],
        samples=len(samples),
        rss_early_mean_mb=round(early, 1),
        rss_late_mean_mb=round(late, 1),
        rss_min_mb=round(min(s['rss_mb'] for s in steady), 1),
        rss_peak_mb=round(max(s['rss_mb'] for s in samples), 1),
        growth_mb=round(late - early, 1),
        slope_mb_per_100_iters=round(slope_per_100(steady), 2),
        hooks_start=samples[0]['hooks'],
        hooks_end=samples[-1]['hooks'],
        fds_start=samples[0]['fds'],
        fds_max=max(s['fds'] for s in samples),
        fds_end=samples[-1]['fds'],
        children_start=samples[0]['children'],
        children_max=max(s['children'] for s in samples),
        children_end=samples[-1]['children'],
        s_per_iter=round((last['time'] - first['time']) /
                         max(last['iter'] - first['iter'], 1), 3))


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from mmtst.engine import AtomicCheckpointRunner

    # what the process held before: loaders of earlier runs in the same
    # process keep their persistent workers until they are collected
    gc.collect()
    children_before = child_processes()
    with tempfile.TemporaryDirectory(prefix='mmtst_soak_') as work_dir:
        cfg = build_config(args, work_dir)
        runner = AtomicCheckpointRunner.from_cfg(cfg)
        samples = []
        runner.register_hook(make_sampler_hook(args.every, samples))
        runner.train()
        phases = len(runner.train_loop.phases_at_epochs)
        # dropping the runner (and its reference cycles) shuts the
        # loaders' persistent workers down
        del runner
        gc.collect()
    summary = summarize(samples, args.warmup, args.iters)
    summary['augmenter_phases'] = phases
    summary['children_before'] = children_before
    summary['children_after_training'] = child_processes()
    print('\n| what | value |\n|---|---|')
    for key, value in summary.items():
        print(f'| {key} | {value} |')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(summary=summary, samples=samples), f, indent=1)
    return 0


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '2')
    from mmtst.apis import run_friendly
    sys.exit(run_friendly(main))
