"""What one TST step costs, next to a plain KD step (CPU speed check).

TST ("Teaching What You Should Teach", Shao et al., IJCAI 2023) trains the
student on a doubled batch [augmented; original] and, in its augmenter
phases, back-propagates through teacher and student to the augmenter's
policy. This script times those steps against a plain KD step of the same
teacher/student pair, in one process, and checks them against the targets of
the speed issue (references measured with the TST authors' code on this CPU).

Scenario ``cls_cifar100`` (the default): CIFAR-100-shaped input
(3x32x32 uint8 pixels, 100 classes; **random data**: the timings do not
depend on the pixel values, the accuracy is not measured), teacher
``CifarResNet`` resnet32x4 (randomly initialised: ``allow_random_teacher``),
student resnet8x4, ``KDLoss(tau=4)``, SGD for the student, SGD(momentum 0.9)
for the augmenter (as in the quick-start TST config). Step kinds, each the
real code path a training run takes:

* ``kd``: ``ClassificationDistiller`` without augmenter,
  ``model.train_step(data, optim)``: the baseline every ratio is taken to.
* ``tst_double[B]``: TST student step, ``tst_mode='double'`` (the paper:
  teacher and student see the doubled batch).
* ``tst_replace[B]``: TST student step, ``tst_mode='replace'`` (beyond the
  paper: half the batch augmented in place; should cost about a KD step).
* ``aug_step[B]``: TST stage II, ``model.augmenter_step(data, optim)``.
* ``aug_forward[B]``: ``model.augment(inputs)`` alone, under ``no_grad`` in
  train mode (what the student step spends on augmenting).

for each augmenter backend ``B`` in ``--backends`` (``neural``: the shipped
op nets, skipped with a note if their checkpoint is missing; ``analytic``).

Scenarios ``det_scenes`` and ``seg_scenes`` (``--scenario``; use
``--batch 8``): the Fashion-MNIST scenes pairs (RetinaNet and PSPNet, ResNet-18
at 1/4 -> 1/8 width) on random 96x96 images with boxes / label maps; kinds
``kd``, ``tst_double[B]``, ``aug_step[B]`` and ``aug_forward[B]``, reported
without targets (the speed issue sets them for classification only).

How it measures: every step kind is built once, then the kinds are run
round-robin (the order rotated every round) for ``--warmup`` + ``--iters``
rounds, so that load from other processes on a shared machine hits all
kinds alike; the table reports the median wall time of the timed rounds
(and the inter-quartile range, to show the noise), and the ratio of the
median process CPU times. ``--flops`` adds the ratio of the steps'
convolution/matmul FLOPs (``torch.utils.flop_counter``), which no machine
noise touches: it is where the time ratios tend to when convolutions
dominate. ``--peak-memory`` re-runs the script once per kind
(``--only KIND``) in a fresh process, because the peak RSS of a process
only ever grows: each kind's peak is the peak of a process that built only
what that kind needs and ran ``--memory-iters`` steps of it (``VmHWM`` on
Linux: a subprocess's ``ru_maxrss`` also counts its parent's RSS at the
fork). It includes what importing torch and the toolboxes costs (reported
as "after imports").

How to read it: "ratio to KD step" is median(kind) / median(kd) of the
wall times; a row passes when that ratio (for ``aug_forward``: its share of
the TST step of the same backend) is within the target (the "RSS" targets
likewise for the absolute peak). "ref" is what the
authors' code measured. The numbers are only comparable on the same machine
with the same ``--threads`` and ``--batch``. On a machine shared with other
work (the header says how many cores the benchmark got on average), every
parallel op can wait for a descheduled worker thread, which penalises the
steps with more (small) ops; there the CPU-time and FLOP ratios, and a
rerun with ``--threads 1``, tell machine noise from real cost. The memory
table's "added by steps" and "above KD peak" columns do not depend on what
importing torch and the toolboxes costs in this environment; the absolute
peak does.

Examples::

    python tools/benchmarks/tst_step_cost.py    # the default table
    python tools/benchmarks/tst_step_cost.py --peak-memory --json out.json
    python tools/benchmarks/tst_step_cost.py --flops --threads 1
    python tools/benchmarks/tst_step_cost.py --profile 'aug_step[neural]'
    python tools/benchmarks/tst_step_cost.py --malloc-heap   # diagnostic

Adding a scenario (detection, segmentation): write a function that returns a
:class:`Scenario` (its step kinds with their roles, the baseline, targets and
references) and decorate it with ``@register_scenario('name')``; the timing,
memory, table and JSON code is shared.
"""
import argparse
import contextlib
import io
import json
import logging
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# Runnable as a file from anywhere in the repository.
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import torch

StepFn = Callable[[], object]

# ----------------------------------------------------------------------------
# Roles, targets, references
# ----------------------------------------------------------------------------
# Every step kind has a role; a scenario's targets and references are keyed
# by role, so a detection scenario reuses the table and its checks.
BASELINE = 'baseline'  # the KD step every ratio is taken to
STUDENT = 'student'  # TST student step, doubled batch (paper)
REPLACE = 'replace'  # TST student step, half replaced
AUGMENTER_STEP = 'augmenter_step'
AUGMENTER_FORWARD = 'augmenter_forward'


@dataclass
class Target:
    """A speed target of one role.

    ``metric`` is ``'ratio'`` (median / median of the baseline) or
    ``'percent_of_student'`` (median as % of the same backend's student
    step); ``limit`` the largest value that passes; ``ref`` what the
    authors' code measured, as text.
    """
    metric: str
    limit: float
    ref: str = ''


@dataclass
class StepKind:
    """One row of the table: a named step and how to build it.

    ``build()`` builds whatever the step needs (models, optimisers, data)
    and returns the step as a callable without arguments; the memory mode
    builds only the kind it measures.
    """
    name: str
    role: str
    build: Callable[[], StepFn]
    backend: Optional[str] = None
    description: str = ''


@dataclass
class Scenario:
    name: str
    description: str
    kinds: List[StepKind]
    targets: Dict[str, Target] = field(default_factory=dict)
    # peak RSS references (MB) by role; target: no higher
    rss_refs_mb: Dict[str, float] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    # imports the toolboxes (so the memory mode can report the RSS they
    # take before any model is built); optional
    preload: Optional[Callable[[], None]] = None

    def kind(self, name: str) -> StepKind:
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise KeyError(f'scenario {self.name!r} has no step kind {name!r}; '
                       f'it has {[k.name for k in self.kinds]}')


SCENARIOS: Dict[str, Callable[[argparse.Namespace], Scenario]] = {}


def register_scenario(name: str):

    def wrap(fn):
        SCENARIOS[name] = fn
        return fn

    return wrap


# ----------------------------------------------------------------------------
# Scenario: classification, CIFAR-100, ResNet32x4 -> ResNet8x4
# ----------------------------------------------------------------------------
CIFAR_MEAN = [129.304, 124.070, 112.434]  # CIFAR-100, 0..255
CIFAR_STD = [68.170, 65.392, 70.418]


def _cifar_classifier(arch: str, num_classes: int = 100) -> dict:
    return dict(
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            mean=CIFAR_MEAN,
            std=CIFAR_STD,
            to_rgb=False),
        backbone=dict(type='mmtst.CifarResNet', arch=arch, in_channels=3),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead', num_classes=num_classes, in_channels=256))


def _random_cls_batch(batch: int,
                      num_classes: int,
                      size: int = 32,
                      seed: int = 0) -> dict:
    """What a dataloader yields: uint8 CHW images and labelled samples."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(
            0, 256, (3, size, size), dtype=torch.uint8, generator=gen)
        for _ in range(batch)
    ]
    labels = torch.randint(0, num_classes, (batch, ), generator=gen)
    samples = [DataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def _import_cls_toolboxes() -> None:
    import mmpretrain.models  # noqa: F401

    import mmtst.engine  # noqa: F401
    import mmtst.models  # noqa: F401


def neural_backend_unavailable() -> Optional[str]:
    """Why the neural backend cannot run here, or None if it can."""
    from mmtst.models.augmenters.op_net_checkpoint import SHIPPED_OP_NETS
    if not osp.isfile(SHIPPED_OP_NETS):
        return (f'skipping backend "neural": the shipped op nets '
                f'{osp.relpath(SHIPPED_OP_NETS, REPO)} are missing '
                '(fit them with tools/fit_op_nets.py)')
    return None


def cached_distillers(
        scope: str,
        distiller: dict,
        student_optim: dict,
        augmenter_optim: dict,
        init_weights: bool = False) -> Callable[[Optional[str]], tuple]:
    """``model_and_optim(backend)``: one distiller per augmenter backend
    (``None``: KD, no augmenter), built once in ``scope`` with a random
    teacher and shared by that backend's step kinds, as in training, where
    one model does both TST steps. The augmenter gets the paper's settings
    (K = 4 ops, temperature 0.05, cutout side 32)."""
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    from mmtst.engine import DistillerOptimWrapperConstructor
    from mmtst.registry import MODELS

    cache: Dict[Optional[str], tuple] = {}

    def model_and_optim(backend: Optional[str]) -> tuple:
        if backend not in cache:
            init_default_scope(scope)
            torch.manual_seed(0)
            cfg = dict(distiller, allow_random_teacher=True)
            optim_cfg = dict(architecture=student_optim)
            if backend is not None:
                cfg['augmenter'] = dict(
                    type='LearnableAugmentPolicy',
                    backend=backend,
                    solve_number=4,
                    temperature=0.05,
                    cutout_size=32)
                optim_cfg['augmenter'] = augmenter_optim
            model = MODELS.build(cfg)
            if init_weights:
                # init_weights() dumps every parameter's init to the log
                # (hundreds of lines): this tool prints only its table
                logger = MMLogger.get_current_instance()
                level = logger.level
                logger.setLevel(logging.WARNING)
                try:
                    model.init_weights()
                finally:
                    logger.setLevel(level)
            model.train()
            cache[backend] = (
                model, DistillerOptimWrapperConstructor(optim_cfg)(model))
        return cache[backend]

    return model_and_optim


def distiller_step_kinds(
        args: argparse.Namespace, data: dict, model_and_optim: Callable,
        augment: Callable,
        replace_mode: bool) -> Tuple[List[StepKind], List[str]]:
    """The step kinds of a distiller scenario: ``kd`` (``model_and_optim(
    None)``), then per backend the TST student step (doubled batch, and
    ``replace`` where the task has it), the augmenter step and the
    augmenter forward (``augment(model, inputs)`` under ``no_grad``). One
    model per backend serves all its kinds, as in training."""

    def kd_step() -> StepFn:
        model, optim = model_and_optim(None)
        return lambda: model.train_step(data, optim)

    def student_step(backend: str, mode: str) -> Callable[[], StepFn]:

        def build() -> StepFn:
            model, optim = model_and_optim(backend)

            def step():
                if replace_mode:
                    model.tst_mode = mode
                return model.train_step(data, optim)

            return step

        return build

    def augmenter_step(backend: str) -> Callable[[], StepFn]:

        def build() -> StepFn:
            model, optim = model_and_optim(backend)
            return lambda: model.augmenter_step(data, optim)

        return build

    def augmenter_forward(backend: str) -> Callable[[], StepFn]:

        def build() -> StepFn:
            model, _ = model_and_optim(backend)
            inputs = model.data_preprocessor(data, True)['inputs']

            def step():
                model.train()
                with torch.no_grad():
                    return augment(model, inputs)

            return step

        return build

    kinds = [
        StepKind(
            'kd', BASELINE, kd_step, description='KD step (no augmenter)')
    ]
    notes = []
    for backend in args.backends:
        if backend == 'neural':
            why = neural_backend_unavailable()
            if why:
                notes.append(why)
                continue
        kinds.append(
            StepKind(f'tst_double[{backend}]', STUDENT,
                     student_step(backend, 'double'), backend,
                     'TST student step, doubled batch (paper)'))
        if replace_mode:
            kinds.append(
                StepKind(f'tst_replace[{backend}]', REPLACE,
                         student_step(backend, 'replace'), backend,
                         'TST student step, half replaced'))
        kinds += [
            StepKind(f'aug_step[{backend}]', AUGMENTER_STEP,
                     augmenter_step(backend), backend,
                     'augmenter step (stage II)'),
            StepKind(f'aug_forward[{backend}]', AUGMENTER_FORWARD,
                     augmenter_forward(backend), backend,
                     'augmenter forward, no_grad'),
        ]
    return kinds, notes


@register_scenario('cls_cifar100')
def cls_cifar100(args: argparse.Namespace) -> Scenario:
    """ResNet32x4 -> ResNet8x4 on CIFAR-100-shaped random data."""
    num_classes = 100
    data = _random_cls_batch(args.batch, num_classes)
    student_optim = dict(
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
    augmenter_optim = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
    model_and_optim = cached_distillers(
        'mmpretrain',
        dict(
            type='mmtst.ClassificationDistiller',
            teacher=_cifar_classifier('resnet32x4', num_classes),
            student=_cifar_classifier('resnet8x4', num_classes),
            distill_loss=dict(type='KDLoss', tau=4.0)), student_optim,
        augmenter_optim)

    kinds, notes = distiller_step_kinds(
        args,
        data,
        model_and_optim,
        lambda model, inputs: model.augment(inputs),
        replace_mode=True)
    return Scenario(
        name='cls_cifar100',
        description=('ResNet32x4 -> ResNet8x4, CIFAR-100-shaped random data '
                     f'(3x32x32, 100 classes), batch {args.batch}, random '
                     'teacher, KDLoss tau 4, SGD'),
        kinds=kinds,
        targets={
            STUDENT: Target('ratio', 2.05, '2.0x'),
            REPLACE: Target('ratio', 1.10, ''),
            AUGMENTER_STEP: Target('ratio', 1.5, '1.6-1.7x'),
            AUGMENTER_FORWARD: Target('percent_of_student', 1.0, '0.3-0.4%'),
        },
        rss_refs_mb={
            BASELINE: 800.0,
            STUDENT: 1190.0,
            AUGMENTER_STEP: 1410.0
        },
        notes=notes,
        preload=_import_cls_toolboxes)


# ----------------------------------------------------------------------------
# Scenarios: detection and segmentation on Fashion-MNIST-scenes-shaped input
# ----------------------------------------------------------------------------
def _random_det_batch(batch: int, size: int = 96, seed: int = 0) -> dict:
    """uint8 images with two labelled boxes each, as mmdet's loader packs."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch):
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                img_id=i))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(
                torch.tensor([[10., 12., 40., 50.], [50., 50., 80., 90.]])),
            labels=torch.randint(0, 10, (2, ), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _random_seg_batch(batch: int, size: int = 96, seed: int = 0) -> dict:
    """uint8 images with an 11-class label map each, as mmseg packs them."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=gen))
        labels = torch.zeros(1, size, size, dtype=torch.long)
        labels[:, 20:60,
               24:70] = int(torch.randint(1, 11, (1, ), generator=gen))
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _structured_scenario(args: argparse.Namespace,
                         name: str,
                         scope: str,
                         distiller: dict,
                         data: dict,
                         description: str,
                         augmenter_clip: float = 20.0) -> Scenario:
    """KD / TST student / augmenter step kinds of a detection or
    segmentation distiller (no ``replace`` mode there: the doubled batch is
    how the paper trains every task)."""
    model_and_optim = cached_distillers(
        scope,
        distiller,
        dict(
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)),
        dict(
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
            clip_grad=dict(max_norm=augmenter_clip)),
        init_weights=True)

    kinds, notes = distiller_step_kinds(
        args,
        data,
        model_and_optim,
        lambda model, inputs: model.augmenter(inputs),
        replace_mode=False)
    return Scenario(
        name=name, description=description, kinds=kinds, notes=notes)


def _scenes_models(kind: str):
    from mmengine.config import Config
    return Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', f'scenes_{kind}.py'))


@register_scenario('det_scenes')
def det_scenes(args: argparse.Namespace) -> Scenario:
    """RetinaNet R18 (1/4 width) -> RetinaNet R18 (1/8 width), 96x96."""
    models = _scenes_models('detectors')
    import mmdet.models  # noqa: F401
    return _structured_scenario(
        args, 'det_scenes', 'mmdet',
        dict(
            type='mmtst.DetectionDistiller',
            teacher=models.retinanet_teacher,
            student=models.retinanet_student,
            kl_weight=1.0,
            tau=1.0), _random_det_batch(args.batch),
        'RetinaNet ResNet-18 w16 -> w8 (the scenes pair), 96x96 random '
        f'images with 2 boxes each, batch {args.batch}, random teacher, KL '
        'on the classification maps, SGD')


@register_scenario('seg_scenes')
def seg_scenes(args: argparse.Namespace) -> Scenario:
    """PSPNet R18 (1/4 width) -> PSPNet R18 (1/8 width), 96x96."""
    models = _scenes_models('segmenters')
    import mmseg.models  # noqa: F401
    return _structured_scenario(
        args, 'seg_scenes', 'mmseg',
        dict(
            type='mmtst.SegmentationDistiller',
            teacher=models.pspnet_teacher,
            student=models.pspnet_student,
            distill_loss=dict(type='PixelWiseKL', tau=1.0),
            decode_weight=1.5,
            aux_weight=0.5), _random_seg_batch(args.batch),
        'PSPNet ResNetV1c-18 w16 -> w8 (the scenes pair), 96x96 random '
        f'images and label maps, batch {args.batch}, random teacher, '
        'pixel-wise KL (decode 1.5, aux 0.5), SGD')


# ----------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------
def _proc_status_mb(field_name: str) -> Optional[float]:
    """A ``VmXXX`` field of /proc/self/status in MB (None off Linux)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field_name + ':'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """Peak RSS of this process in MB.

    ``VmHWM`` where there is one: ``getrusage().ru_maxrss`` of a process
    started by ``subprocess`` (vfork + exec) also counts the *parent's* RSS
    at the fork, so a child would report at least its parent's size.
    """
    hwm = _proc_status_mb('VmHWM')
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # KiB on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0 if sys.platform == 'darwin' else 1024.0)


def _reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False if not
    possible here."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return False
    return True


def keep_freed_memory_in_heap() -> bool:
    """Diagnostic (``--malloc-heap``): make glibc serve every allocation
    from the heap and never give freed memory back to the OS.

    By default glibc maps each block larger than its mmap threshold (at
    most 32 MB) afresh and unmaps it when freed, so a step whose
    activations exceed that (a ResNet feature map at batch 128: 128 x 64 x
    32 x 32 floats = 33.5 MB) pays page faults and zeroing for them on
    every step. Returns False where this is not glibc.
    """
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    return bool(mallopt(m_mmap_max, 0)) and bool(
        mallopt(m_trim_threshold, 2**31 - 1))


def time_round_robin(
        steps: Dict[str, StepFn], iters: int,
        warmup: int) -> Tuple[Dict[str, List[float]], Dict[str, List[float]]]:
    """Wall and process-CPU times (s) of ``iters`` calls of every step after
    ``warmup`` rounds, the steps interleaved and their order rotated each
    round."""
    names = list(steps)
    wall: Dict[str, List[float]] = {name: [] for name in names}
    cpu: Dict[str, List[float]] = {name: [] for name in names}
    for r in range(warmup + iters):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start, start_cpu = time.perf_counter(), time.process_time()
            steps[name]()
            elapsed = time.perf_counter() - start
            elapsed_cpu = time.process_time() - start_cpu
            if r >= warmup:
                wall[name].append(elapsed)
                cpu[name].append(elapsed_cpu)
    return wall, cpu


def count_flops(steps: Dict[str, StepFn]) -> Dict[str, int]:
    """Convolution / matmul FLOPs of one call of every step (forward and
    backward), counted by ``torch.utils.flop_counter``: noise-free, so the
    ratio of two steps' FLOPs is what their time ratio tends to when
    convolutions dominate."""
    from torch.utils.flop_counter import FlopCounterMode
    flops = {}
    for name, step in steps.items():
        with FlopCounterMode(display=False) as counter:
            step()
        flops[name] = counter.get_total_flops()
    return flops


def _quartiles(values: Sequence[float]) -> tuple:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method='inclusive')
    return q[0], q[2]


def evaluate(scenario: Scenario,
             times: Dict[str, List[float]],
             cpu_times: Optional[Dict[str, List[float]]] = None,
             flops: Optional[Dict[str, int]] = None) -> List[dict]:
    """One row per kind: median, spread, ratios, target and verdict. The
    verdict uses the wall-time median (the CPU-time and FLOP ratios are
    there to judge how much of it is machine noise)."""
    median = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    cpu = ({
        k: statistics.median(v) * 1e3
        for k, v in cpu_times.items()
    } if cpu_times else {})
    baseline = next(k.name for k in scenario.kinds if k.role == BASELINE)
    rows = []
    for kind in scenario.kinds:
        if kind.name not in times:
            continue
        q1, q3 = _quartiles([t * 1e3 for t in times[kind.name]])
        row = dict(
            kind=kind.name,
            role=kind.role,
            backend=kind.backend,
            description=kind.description,
            median_ms=median[kind.name],
            q1_ms=q1,
            q3_ms=q3,
            n=len(times[kind.name]),
            ratio_to_kd=median[kind.name] / median[baseline],
            target=None,
            ref=None,
            value=None,
            passed=None)
        if kind.name in cpu and cpu.get(baseline):
            row['cpu_median_ms'] = cpu[kind.name]
            row['cpu_ratio_to_kd'] = cpu[kind.name] / cpu[baseline]
        if flops and flops.get(baseline):
            row['gflop'] = flops[kind.name] / 1e9
            row['flop_ratio_to_kd'] = flops[kind.name] / flops[baseline]
        if kind.role == AUGMENTER_FORWARD:  # reported with or without target
            student = next(
                (k.name for k in scenario.kinds if k.role == STUDENT
                 and k.backend == kind.backend and k.name in median), None)
            row['percent_of_student'] = row['value'] = (100.0 *
                                                        median[kind.name] /
                                                        median[student]
                                                        if student else None)
        target = scenario.targets.get(kind.role)
        if target is not None:
            if target.metric == 'ratio':
                value = row['ratio_to_kd']
            elif target.metric == 'percent_of_student':
                value = row['percent_of_student']
            else:
                raise ValueError(f'unknown target metric {target.metric!r}')
            row.update(
                target=target.limit,
                metric=target.metric,
                ref=target.ref,
                value=value,
                passed=None if value is None else value <= target.limit)
        rows.append(row)
    return rows


def measure_peak_memory(scenario: Scenario,
                        args: argparse.Namespace) -> Dict[str, dict]:
    """Peak RSS of each kind, each in a fresh process (``--only KIND``)."""
    results = {}
    for kind in scenario.kinds:
        cmd = [
            sys.executable,
            osp.abspath(__file__), '--only', kind.name, '--scenario',
            args.scenario, '--batch',
            str(args.batch), '--threads',
            str(args.threads), '--memory-iters',
            str(args.memory_iters), '--backends', *args.backends
        ]
        if args.malloc_heap:
            cmd.append('--malloc-heap')
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{')]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f'peak-memory run of {kind.name} failed '
                               f'(exit {proc.returncode}):\n' +
                               (proc.stdout + proc.stderr)[-3000:])
        results[kind.name] = json.loads(lines[-1])
    return results


def run_only(scenario: Scenario, name: str, iters: int) -> dict:
    """The body of a ``--only KIND`` process: import the toolboxes, build
    one kind, run it, and report the peak RSS at each of these points.

    The peak of the steps alone is measured by resetting the peak RSS after
    the build where the kernel allows it, so that a transient peak while
    importing or building cannot hide it."""
    kind = scenario.kind(name)
    if scenario.preload is not None:
        scenario.preload()
    after_imports = _peak_rss_mb()
    step = kind.build()
    after_build = _peak_rss_mb()
    rss_before_steps = _proc_status_mb('VmRSS') or after_build
    reset = _reset_peak_rss()
    for _ in range(iters):
        step()
    steps_peak = _peak_rss_mb()
    return dict(
        kind=name,
        role=kind.role,
        rss_after_imports_mb=after_imports,
        rss_after_build_mb=after_build,
        peak_rss_mb=max(after_build, steps_peak),
        added_by_steps_mb=(steps_peak - rss_before_steps if reset else max(
            steps_peak - after_build, 0.0)),
        peak_reset=reset,
        steps=iters)


def profile_kind(scenario: Scenario,
                 name: str,
                 iters: int,
                 warmup: int,
                 row_limit: int = 25) -> str:
    """torch.profiler table (self CPU time) of ``iters`` steps of a kind."""
    from torch.profiler import ProfilerActivity, profile
    step = scenario.kind(name).build()
    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(iters):
            step()
    return prof.key_averages().table(
        sort_by='self_cpu_time_total', row_limit=row_limit)


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------
def _fmt_target(row: dict) -> str:
    if row['target'] is None:
        return 'baseline' if row['role'] == BASELINE else '-'
    if row['metric'] == 'percent_of_student':
        text = f"<= {row['target']:g}% of TST step"
    else:
        text = f"<= {row['target']:.2f}x"
    return text + (f" (ref {row['ref']})" if row['ref'] else '')


def _fmt_verdict(row: dict) -> str:
    if row['passed'] is None:
        return '-'
    return 'pass' if row['passed'] else 'FAIL'


def format_table(rows: List[dict]) -> str:
    has_cpu = all('cpu_ratio_to_kd' in r for r in rows)
    has_flops = all('flop_ratio_to_kd' in r for r in rows)
    head = ['step kind', 'median ms', 'IQR ms', 'ratio to KD step']
    head += ['CPU-time ratio'] if has_cpu else []
    head += ['FLOP ratio'] if has_flops else []
    head += ['target', 'pass/fail']
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '|---|---:|---:|---:|' + '---:|' * (has_cpu + has_flops) + '---|---|'
    ]
    for row in rows:
        ratio = f"{row['ratio_to_kd']:.2f}x"
        if row['role'] == AUGMENTER_FORWARD and row.get('value') is not None:
            ratio += f" ({row['value']:.2f}% of TST)"
        cells = [
            row['kind'], f"{row['median_ms']:.1f}",
            f"{row['q1_ms']:.1f}-{row['q3_ms']:.1f}", ratio
        ]
        if has_cpu:
            cells.append(f"{row['cpu_ratio_to_kd']:.2f}x")
        if has_flops:
            cells.append(f"{row['flop_ratio_to_kd']:.3f}x")
        cells += [_fmt_target(row), _fmt_verdict(row)]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_forward_share(rows: List[dict]) -> str:
    parts = [
        f"{r['backend']}: {r['value']:.2f}%" for r in rows
        if r['role'] == AUGMENTER_FORWARD and r.get('value') is not None
    ]
    if not parts:
        return ('augmenter forward as % of TST step: '
                '(no augmenter forward rows timed)')
    targeted = any(r['role'] == AUGMENTER_FORWARD and r['target'] is not None
                   for r in rows)
    return ('augmenter forward as % of TST step: ' + ', '.join(parts) +
            (' (target <= 1%, ref 0.3-0.4%)' if targeted else ''))


def format_memory(scenario: Scenario, memory: Dict[str, dict]) -> str:
    """Peak RSS per kind against the references; also what the step adds
    to the process (peak - after build) and to the KD step's peak, which
    do not depend on the process's import baseline."""
    baseline = next(
        (k.name
         for k in scenario.kinds if k.role == BASELINE and k.name in memory),
        None)
    base_peak = memory[baseline]['peak_rss_mb'] if baseline else None
    base_ref = scenario.rss_refs_mb.get(BASELINE)
    lines = [
        '| step kind | peak RSS MB | reference MB | pass/fail '
        '| after imports MB | after build MB | added by steps MB '
        '| above KD peak MB (ref) |', '|---|---:|---:|---|---:|---:|---:|---:|'
    ]
    for kind in scenario.kinds:
        if kind.name not in memory:
            continue
        m = memory[kind.name]
        ref = scenario.rss_refs_mb.get(kind.role)
        m['ref_mb'] = ref
        m['passed'] = None if ref is None else m['peak_rss_mb'] <= ref
        verdict = '-' if ref is None else ('pass' if m['passed'] else 'FAIL')
        above = '-'
        if base_peak is not None:
            m['above_kd_peak_mb'] = m['peak_rss_mb'] - base_peak
            above = f"{m['above_kd_peak_mb']:+.0f}"
            if ref is not None and base_ref is not None:
                above += f' ({ref - base_ref:+.0f})'
        lines.append(f"| {kind.name} | {m['peak_rss_mb']:.0f} "
                     f"| {'-' if ref is None else f'{ref:.0f}'} | {verdict} "
                     f"| {m.get('rss_after_imports_mb', float('nan')):.0f} "
                     f"| {m['rss_after_build_mb']:.0f} "
                     f"| {m['added_by_steps_mb']:.0f} | {above} |")
    return '\n'.join(lines)


def machine_info(threads: int) -> dict:
    info = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        platform=platform.platform(),
        processor=platform.processor(),
        cpu_count=os.cpu_count(),
        torch_threads=threads,
        torch_interop_threads=torch.get_num_interop_threads())
    try:
        info['loadavg'] = os.getloadavg()
    except OSError:
        pass
    try:
        with open('/proc/cpuinfo') as f:
            models = [
                ln.split(':', 1)[1].strip() for ln in f
                if ln.startswith('model name')
            ]
        if models:
            info['cpu_model'] = models[0]
    except OSError:
        pass
    return info


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time TST student / augmenter steps against a KD step '
        '(see the module docstring).')
    parser.add_argument(
        '--scenario', default='cls_cifar100', choices=sorted(SCENARIOS))
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument(
        '--threads',
        type=int,
        default=2,
        help='torch.set_num_threads (default 2)')
    parser.add_argument(
        '--iters', type=int, default=20, help='timed rounds (default 20)')
    parser.add_argument(
        '--warmup',
        type=int,
        default=3,
        help='untimed rounds first (default 3)')
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['neural', 'analytic'],
        choices=['neural', 'analytic'])
    parser.add_argument(
        '--kinds',
        nargs='+',
        default=None,
        metavar='KIND',
        help='time only these step kinds (default all)')
    parser.add_argument(
        '--peak-memory',
        action='store_true',
        help='also measure each kind\'s peak RSS in its own '
        'process')
    parser.add_argument(
        '--flops',
        action='store_true',
        help='also count each step\'s convolution/matmul '
        'FLOPs (one extra call per kind, noise-free)')
    parser.add_argument(
        '--malloc-heap',
        action='store_true',
        help='diagnostic: glibc keeps freed memory in the '
        'heap instead of unmapping large blocks (see '
        'keep_freed_memory_in_heap)')
    parser.add_argument(
        '--memory-iters',
        type=int,
        default=5,
        help='steps per peak-memory process (default 5)')
    parser.add_argument(
        '--only', default=None, metavar='KIND',
        help=argparse.SUPPRESS)  # a --peak-memory child
    parser.add_argument(
        '--profile',
        nargs='+',
        default=None,
        metavar='KIND',
        help='print a torch.profiler table of these kinds '
        '(--iters steps after --warmup) instead of '
        'timing')
    parser.add_argument(
        '--json',
        default=None,
        metavar='OUT',
        help='also write the results as JSON')
    args = parser.parse_args(argv)
    for name in ('batch', 'threads', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.malloc_heap and not keep_freed_memory_in_heap():
        print('NOTE: --malloc-heap needs glibc; ignored')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    scenario = SCENARIOS[args.scenario](args)

    if args.only is not None:
        with contextlib.redirect_stdout(io.StringIO()):
            result = run_only(scenario, args.only, args.memory_iters)
        print(json.dumps(result))
        return result

    for note in scenario.notes:
        print(f'NOTE: {note}')

    if args.profile:
        for name in args.profile:
            print(f'\n## torch.profiler: {name} ({args.iters} steps)\n')
            print(profile_kind(scenario, name, args.iters, args.warmup))
        return dict(profiled=args.profile)

    kinds = scenario.kinds
    if args.kinds:
        kinds = [scenario.kind(name) for name in args.kinds]
        if not any(k.role == BASELINE for k in kinds):
            kinds.insert(0,
                         next(k for k in scenario.kinds if k.role == BASELINE))
        scenario.kinds = [k for k in scenario.kinds if k in kinds]

    info = machine_info(args.threads)
    load_before = info.pop('loadavg', None)
    steps = {kind.name: kind.build() for kind in scenario.kinds}
    flops = count_flops(steps) if args.flops else None
    start, start_cpu = time.perf_counter(), time.process_time()
    times, cpu_times = time_round_robin(steps, args.iters, args.warmup)
    elapsed = time.perf_counter() - start
    cores_used = (time.process_time() - start_cpu) / elapsed
    try:
        load_after = os.getloadavg()
    except OSError:
        load_after = None
    rows = evaluate(scenario, times, cpu_times, flops)

    print(f'\n# TST step cost: {scenario.description}\n')
    print(f"torch {info['torch']}, {args.threads} thread(s) of "
          f"{info['cpu_count']} CPU(s) ({info.get('cpu_model', '?')}), "
          f'{args.iters} timed rounds after {args.warmup} warm-up, '
          f'round-robin; timing took {elapsed:.0f} s, using '
          f'{cores_used:.2f} cores on average; load average '
          f'{_fmt_load(load_before)} before, {_fmt_load(load_after)} after\n')
    print(format_table(rows))
    print()
    print(format_forward_share(rows))

    memory = None
    if args.peak_memory:
        memory = measure_peak_memory(scenario, args)
        print(f'\nPeak RSS, each kind in its own process '
              f'({args.memory_iters} steps; target: no higher than the '
              'reference):\n')
        print(format_memory(scenario, memory))

    result = dict(
        scenario=scenario.name,
        description=scenario.description,
        config=dict(
            batch=args.batch,
            threads=args.threads,
            iters=args.iters,
            warmup=args.warmup,
            backends=args.backends,
            memory_iters=args.memory_iters,
            malloc_heap=args.malloc_heap),
        machine=dict(
            info, loadavg_before=load_before, loadavg_after=load_after),
        timing_seconds=elapsed,
        cores_used=cores_used,
        notes=scenario.notes,
        rows=rows,
        times_ms={
            k: [t * 1e3 for t in v]
            for k, v in times.items()
        },
        cpu_times_ms={
            k: [t * 1e3 for t in v]
            for k, v in cpu_times.items()
        },
        flops=flops,
        peak_memory=memory)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'\nwrote {args.json}')
    return result


def _fmt_load(load) -> str:
    return '?' if load is None else '/'.join(f'{x:.2f}' for x in load)


if __name__ == '__main__':
    main()
