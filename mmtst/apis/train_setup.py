"""Config preparation and error reporting shared by tools/train.py and
tools/test.py."""
import difflib
import inspect
import os
import os.path as osp
import pickle
import sys
from typing import Callable, Optional, Set, TypeVar

import torch
from mmengine.config import Config, ConfigDict

from mmtst.utils import UNSAFE_OPT_IN, allow_mmengine_checkpoints

T = TypeVar('T')
# Errors that describe bad input; anything else is a bug and keeps its trace.
USER_ERRORS = (FileNotFoundError, ValueError, KeyError, TypeError,
               pickle.UnpicklingError, RuntimeError)


def _set_amp(optim_wrapper: ConfigDict) -> None:
    parts = [optim_wrapper[k] for k in ('architecture', 'augmenter')
             if k in optim_wrapper]
    for part in parts or [optim_wrapper]:
        if part.get('type', 'OptimWrapper') == 'OptimWrapper':
            part['type'] = 'AmpOptimWrapper'
            part.setdefault('loss_scale', 'dynamic')


def prepare_config(cfg: Config, config_path: str,
                   work_dir: Optional[str] = None,
                   resume: Optional[str] = None, amp: bool = False,
                   no_validate: bool = False, auto_scale_lr: bool = False,
                   allow_unsafe_checkpoint: bool = False,
                   launcher: str = 'none',
                   cfg_options: Optional[dict] = None) -> Config:
    """Apply the command-line flags to ``cfg`` as mmpretrain's tools do,
    then check mmtst's own components for misspelt arguments."""
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(config_path))[0])
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
    if launcher != 'none' and str(cfg.model.get('type', '')).endswith('Distiller'):
        wrapper = cfg.get('model_wrapper_cfg') or {}
        wrapper.setdefault('type', 'mmtst.DistillerDistributedDataParallel')
        cfg.model_wrapper_cfg = wrapper
    if launcher == 'pytorch' and not torch.cuda.is_available():
        init_cpu_distributed(cfg)
    allow_mmengine_checkpoints()
    hooks = list(cfg.get('custom_hooks') or [])
    for name in ('WeightsOnlyCheckpointHook', 'FiniteLossHook',
                 'ExactResumeHook'):
        if not any(name in str(h.get('type', '')) for h in hooks):
            hooks.append(dict(type=f'mmtst.{name}'))
    cfg.custom_hooks = hooks
    if allow_unsafe_checkpoint:
        # The user's explicit opt-in: mmengine's loaders call torch.load
        # without weights_only, so this is the only switch they honour.
        os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'
        if str(cfg.model.get('type', '')).endswith('Distiller'):
            cfg.model.allow_unsafe_load = True
    check_arguments(cfg.model, 'model')
    return cfg


def init_cpu_distributed(cfg: Config) -> None:
    """Start a CPU (gloo) process group for ``--launcher pytorch``.

    mmengine 0.10.7's pytorch launcher always calls
    ``torch.cuda.set_device``, which fails without a GPU; the Runner skips
    its own initialisation when a group exists. DDP on CPU also needs
    ``device_ids=None``.
    """
    import torch.distributed as torch_dist
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or {}
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')


def accepted_arguments(cls: type) -> Optional[Set[str]]:
    """Names ``cls(...)`` accepts, following ``**kwargs`` up the MRO; None
    when some class takes arbitrary keywords."""
    names: Set[str] = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names.update(p.name for p in params
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {'self'}
    return None


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
                close = difflib.get_close_matches(key, sorted(accepted), n=1)
                hint = f' Did you mean `{close[0]}`?' if close else ''
                raise ValueError(
                    f'{where}: {type_name} has no argument `{key}`.{hint} '
                    f'Its arguments are: {", ".join(sorted(accepted))}.')
    for key, value in node.items():
        check_arguments(value, f'{where}.{key}')


def run_friendly(fn: Callable[[], T]) -> T:
    """Run ``fn``; report bad-input errors as one clear line (set
    ``MMTST_DEBUG=1`` for the full traceback)."""
    try:
        return fn()
    except USER_ERRORS as err:
        if os.environ.get('MMTST_DEBUG') == '1':
            raise
        # a KeyError's str() is the repr of its message (quotes escaped)
        message = (str(err.args[0]) if isinstance(err, KeyError) and err.args
                   else str(err).strip('"\'')) or type(err).__name__
        if 'Original Traceback' in message:
            # re-raised from a loader worker: the message carries the
            # worker's traceback; its last line is the error itself
            last = message.strip().splitlines()[-1]
            message = last.split(': ', 1)[-1]
        if isinstance(err, pickle.UnpicklingError) and UNSAFE_OPT_IN not in message:
            message = (f'a checkpoint could not be loaded as weights only '
                       f'({message}). {UNSAFE_OPT_IN}')
        print(f'mmtst: error: {type(err).__name__}: {message}\n'
              '(set MMTST_DEBUG=1 to see the traceback)', file=sys.stderr)
        sys.exit(2)
