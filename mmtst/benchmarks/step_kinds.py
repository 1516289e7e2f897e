"""What the step-cost benchmark times: step kinds with their roles, the
targets and references keyed by role, the scenario registry, and the step
kinds every distiller scenario shares (KD step, TST student step,
augmenter step and forward).

A scenario is a function of the command-line arguments that returns a
:class:`Scenario`, registered with ``@register_scenario('name')``
(:mod:`.scenarios` holds the shipped ones); the timing, memory, table and
JSON code of ``tools/benchmarks/tst_step_cost.py`` is shared by all.
"""
import argparse
import logging
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import torch

from .sets import REPO_ROOT

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


def neural_backend_unavailable() -> Optional[str]:
    """Why the neural backend cannot run here, or None if it can."""
    from mmtst.models.augmenters.op_net_checkpoint import SHIPPED_OP_NETS
    if not osp.isfile(SHIPPED_OP_NETS):
        return (f'skipping backend "neural": the shipped op nets '
                f'{osp.relpath(SHIPPED_OP_NETS, REPO_ROOT)} are missing '
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
