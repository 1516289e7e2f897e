"""Config preparation and error reporting shared by tools/train.py and
tools/test.py."""
import copy
import os
import pickle
import sys
from typing import Callable, Optional, TypeVar

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from mmtst.utils import UNSAFE_OPT_IN, allow_mmengine_checkpoints
from mmtst.utils.profiles import FullProfileRequired, check_config_profile
from .config_checks import (accepted_arguments, check_loop_arguments,
                            check_overrides, closest)
from .dist_failures import (default_work_dir, gloo_timeout, last_checkpoint,
                            lost_peer_message, lost_peer_reason)
from .error_report import error_location, remember_config, remembered

T = TypeVar('T')
# The hooks every mmtst run has (configs/_base_/mmtst_runtime.py).
MMTST_HOOKS = ('WeightsOnlyCheckpointHook', 'FiniteLossHook',
               'ExactResumeHook', 'TeacherValidationHook',
               'AugmenterLoggerHook')
# Errors that describe bad input; anything else is a bug and keeps its trace.
USER_ERRORS = (FileNotFoundError, ValueError, KeyError, TypeError,
               pickle.UnpicklingError, RuntimeError)


def _set_amp(optim_wrapper: ConfigDict) -> None:
    parts = [
        optim_wrapper[k] for k in ('architecture', 'augmenter')
        if k in optim_wrapper
    ]
    for part in parts or [optim_wrapper]:
        if part.get('type', 'OptimWrapper') == 'OptimWrapper':
            part['type'] = 'AmpOptimWrapper'
            part.setdefault('loss_scale', 'dynamic')


def prepare_config(cfg: Config,
                   config_path: str,
                   work_dir: Optional[str] = None,
                   resume: Optional[str] = None,
                   amp: bool = False,
                   no_validate: bool = False,
                   auto_scale_lr: bool = False,
                   allow_unsafe_checkpoint: bool = False,
                   launcher: str = 'none',
                   cfg_options: Optional[dict] = None) -> Config:
    """Apply the command-line flags to ``cfg`` as mmpretrain's tools do,
    add mmtst's runtime where the config lacks it
    (:func:`add_mmtst_runtime`), then check mmtst's own components for
    misspelt arguments."""
    # first: a detection / segmentation config in a classification set-up
    # would otherwise fail on whichever mmdet / mmseg part is built first
    check_config_profile(cfg, config_path)
    if cfg_options:
        # checked first: mmengine would add a misaddressed key silently
        cfg.merge_from_dict(check_overrides(cfg, cfg_options))
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(config_path)
    if amp:
        _set_amp(cfg.optim_wrapper)
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        cfg.resume = True
        cfg.load_from = resume
    if no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if auto_scale_lr:
        cfg.setdefault('auto_scale_lr', ConfigDict(base_batch_size=256))
        cfg.auto_scale_lr.enable = True
    add_mmtst_runtime(cfg)
    sync_vis_backends(cfg)
    if launcher == 'pytorch' and not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    allow_mmengine_checkpoints()
    if allow_unsafe_checkpoint:
        # The user's explicit opt-in: mmengine's loaders call torch.load
        # without weights_only, so this is the only switch they honour.
        os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'
        if str(cfg.model.get('type', '')).endswith('Distiller'):
            cfg.model.allow_unsafe_load = True
    check_arguments(cfg.model, 'model')
    check_loop_arguments(cfg)
    remember_config(cfg)
    return cfg


def add_mmtst_runtime(cfg: Config) -> None:
    """Give ``cfg`` what ``configs/_base_/mmtst_runtime.py`` gives mmtst's
    configs, where it lacks it: mmtst's runner type, its hooks and,
    for a distiller, its DDP wrapper.

    mmtst's own configs carry all of these, and are left unchanged; this
    keeps user configs written without them (or replacing
    ``custom_hooks``) as safe under ``tools/train.py`` as they were.
    """
    cfg.setdefault('runner_type', 'mmtst.AtomicCheckpointRunner')
    hooks = list(cfg.get('custom_hooks') or [])
    for name in MMTST_HOOKS:
        if not any(name in str(h.get('type', '')) for h in hooks):
            hooks.append(dict(type=f'mmtst.{name}'))
    cfg.custom_hooks = hooks
    if str(cfg.model.get('type', '')).endswith('Distiller'):
        # mmengine only uses it in distributed runs
        wrapper = cfg.get('model_wrapper_cfg') or {}
        wrapper.setdefault('type', 'mmtst.DistillerDistributedDataParallel')
        cfg.model_wrapper_cfg = wrapper


# What the _base_ runtime configs give both ``vis_backends`` and
# ``visualizer.vis_backends`` (default_runtime.py, det_runtime.py,
# seg_runtime.py).
DEFAULT_VIS_BACKENDS = [dict(type='LocalVisBackend')]


def _plain(value):
    """``value`` with its ConfigDicts as plain dicts, for comparison."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def sync_vis_backends(cfg: Config) -> None:
    """Let a top-level ``vis_backends`` override reach the visualizer.

    The _base_ runtimes write ``visualizer = dict(...,
    vis_backends=vis_backends)``, which copies the list when the base file
    is read, so a child config (or ``--cfg-options``) that sets the
    top-level ``vis_backends`` would be ignored silently. Where the
    visualizer still has the base's list and the top-level one differs,
    the top-level one is what the config meant: it is used, and the log
    says so. A visualizer whose own ``vis_backends`` was changed is left
    as it is (the documented form, ``visualizer =
    dict(vis_backends=[...])``).
    """
    top = cfg.get('vis_backends')
    visualizer = cfg.get('visualizer')
    if top is None or not isinstance(visualizer, dict):
        return
    current = _plain(visualizer.get('vis_backends'))
    if _plain(top) == current or current not in (None, DEFAULT_VIS_BACKENDS):
        return
    visualizer['vis_backends'] = copy.deepcopy(top)
    print_log(
        'The config sets the top-level vis_backends, which does not reach '
        'the visualizer by itself; using it for visualizer.vis_backends: '
        f'{[b.get("type", b) if isinstance(b, dict) else b for b in top]}',
        logger='current')


def init_cpu_distributed(cfg: Config) -> None:
    """Start a CPU (gloo) process group for ``--launcher pytorch``.

    mmengine 0.10.7's pytorch launcher always calls
    ``torch.cuda.set_device``, which fails without a GPU; the Runner skips
    its own initialisation when a group exists. DDP on CPU also needs
    ``device_ids=None``.

    The group's collective timeout is ``env_cfg.dist_cfg.timeout`` (in
    seconds, as mmengine reads it), by default
    :data:`mmtst.apis.dist_failures.DEFAULT_GLOO_TIMEOUT_S` rather than
    torch's 30 minutes: a rank whose peer froze or became unreachable
    stops after it with one line (:func:`run_friendly`).
    """
    from datetime import timedelta

    import torch.distributed as torch_dist
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    timeout = gloo_timeout(cfg.env_cfg.dist_cfg)
    cfg.env_cfg.dist_cfg.timeout = timeout
    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo', timeout=timedelta(seconds=timeout))


def check_arguments(node, where: str) -> None:
    """Raise a ValueError that suggests the intended name when a config of
    an mmtst component has an argument its class does not take."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            check_arguments(item, f'{where}[{i}]')
        return
    if not isinstance(node, dict):
        return
    type_name = node.get('type')
    if isinstance(type_name, str) and type_name.startswith('mmtst.'):
        from mmtst.registry import MODELS
        cls = MODELS.get(type_name)
        accepted = accepted_arguments(cls) if cls is not None else None
        if accepted is not None:
            for key in node:
                if key in ('type', '_scope_') or key in accepted:
                    continue
                raise ValueError(
                    f'{where}: {type_name} has no argument `{key}`.'
                    f'{closest(key, accepted)} '
                    f'Its arguments are: {", ".join(sorted(accepted))}.')
    for key, value in node.items():
        check_arguments(value, f'{where}.{key}')


def run_friendly(fn: Callable[[], T]) -> T:
    """Run ``fn``; report bad-input errors, and a rank of a distributed
    run that lost contact with another (:mod:`mmtst.apis.dist_failures`),
    as one clear line (set ``MMTST_DEBUG=1`` for the full traceback)."""
    try:
        return fn()
    except KeyboardInterrupt:
        # Ctrl-C is the user's own stop, not an error: say how to go on
        # instead of printing where Python happened to be. Under a launcher
        # every rank gets the signal; rank 0 speaks for them.
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        if os.environ.get('RANK', '0') == '0':
            print(
                interrupted_message(remembered('work_dir')),
                file=sys.stderr,
                flush=True)
        sys.exit(130)  # the shell's code for a run ended by SIGINT
    except FullProfileRequired as err:
        # one line, no traceback hint: the fix is the command it names
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        print(f'mmtst: error: {err}', file=sys.stderr)
        sys.exit(2)
    except USER_ERRORS as err:
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        _exit_if_lost_peer(err)
        # a KeyError's str() is the repr of its message (quotes escaped)
        message = (str(err.args[0]) if isinstance(err, KeyError) and err.args
                   else str(err).strip('"\'')) or type(err).__name__
        if 'Original Traceback' in message:
            # re-raised from a loader worker: the message carries the
            # worker's traceback; its last line is the error itself
            last = message.strip().splitlines()[-1]
            message = last.split(': ', 1)[-1]
        if isinstance(err,
                      pickle.UnpicklingError) and UNSAFE_OPT_IN not in message:
            message = (f'a checkpoint could not be loaded as weights only '
                       f'({message}). {UNSAFE_OPT_IN}')
        if isinstance(err, (RuntimeError, TypeError, KeyError)) and \
                not type(err).__module__.startswith('mmtst'):
            # an error of torch / a toolbox: say where; mmtst's own errors
            # already name the file or key
            message += error_location(err.__traceback__)
        print(
            f'mmtst: error: {type(err).__name__}: {message}\n'
            '(set MMTST_DEBUG=1 to see the traceback)',
            file=sys.stderr)
        sys.exit(2)
    except Exception as err:
        # torch's backends may also raise OSErrors and the like
        if os.environ.get('MMTST_DEBUG') != '1':
            _exit_if_lost_peer(err)
        raise


def interrupted_message(work_dir: Optional[str]) -> str:
    """The line a run stopped by Ctrl-C prints: what ``--resume auto``
    would continue from (checkpoints are written atomically, so the last
    one is whole)."""
    checkpoint = last_checkpoint(work_dir)
    if checkpoint is None:
        where = f' in {work_dir}' if work_dir else ''
        return ('mmtst: interrupted before the first checkpoint (none'
                f'{where}); run the same command to start again.')
    return (f'mmtst: interrupted; to continue from the last checkpoint '
            f'({checkpoint}), run the same command again with --resume auto.')


def _exit_if_lost_peer(err: BaseException) -> None:
    """Exit with one line if ``err`` says that this rank lost contact with
    another rank of a distributed run (not a bad input, nor a bug)."""
    reason = lost_peer_reason(err)
    if reason is None:
        return
    print(
        'mmtst: error: ' + lost_peer_message(reason, remembered('work_dir')),
        file=sys.stderr,
        flush=True)
    sys.exit(2)
