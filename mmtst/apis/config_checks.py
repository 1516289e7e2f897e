"""Checks that run on a config before the Runner is built.

mmengine logs 200-300 lines of environment and config before it builds the
loops, and merges ``--cfg-options`` without asking whether a key exists. A
misspelt loop argument (``train_cfg.max_epoch``) then fails after that dump
with a bare ``TypeError``, and an override that addresses a list entry of
what is a dict (``param_scheduler.1.end`` on a TST config, whose
``param_scheduler`` is ``dict(architecture=..., augmenter=...)``) silently
adds a key ``'1'``: the run exits 0 with the schedule unchanged. These
checks turn both into one line that names the key and the likely fix, and
run before anything is logged.
"""
import difflib
import inspect
from typing import Any, Dict, List, Optional, Set, Tuple

from mmengine.config import Config

#: how a user marks an override key as deliberately new: ``+key=value``
NEW_KEY_MARK = '+'

# The loop each ``*_cfg`` builds when it names no type (mmengine's Runner).
_DEFAULT_LOOPS = {'val_cfg': 'ValLoop', 'test_cfg': 'TestLoop'}
# Arguments the Runner passes to a loop itself, never from the config.
_RUNNER_PASSED = {'runner', 'dataloader', 'evaluator'}


def accepted_arguments(cls: type) -> Optional[Set[str]]:
    """Names ``cls(...)`` accepts, following ``**kwargs`` up the MRO; None
    when some class takes arbitrary keywords."""
    names: Set[str] = set()
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names.update(
            p.name for p in params
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {'self'}
    return None


def closest(name: str, candidates) -> str:
    """`` Did you mean `x`?`` for the candidate closest to ``name``, else
    an empty string."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return f' Did you mean `{close[0]}`?' if close else ''


def resolve_type(type_name: str, default_scope: Optional[str]):
    """The class a config ``type`` names, looked up in every mmengine
    registry under the config's default scope; None when none has it (or
    it is not a class)."""
    import mmengine.registry as root
    from mmengine.registry import DefaultScope, Registry
    registries = [
        obj for obj in vars(root).values() if isinstance(obj, Registry)
    ]
    with DefaultScope.overwrite_default_scope(default_scope):
        for registry in registries:
            try:
                found = registry.get(type_name)
            except Exception:  # a scope whose package is not installed
                found = None
            if isinstance(found, type):
                return found
    return None


def loop_class(section: str, loop_cfg: dict, default_scope: Optional[str]):
    """The loop class ``section`` (``train_cfg`` / ``val_cfg`` /
    ``test_cfg``) builds, as mmengine's Runner picks it."""
    type_name = loop_cfg.get('type')
    if type_name is None and section == 'train_cfg':
        if 'by_epoch' not in loop_cfg:
            return None  # the Runner reports that itself
        type_name = ('EpochBasedTrainLoop'
                     if loop_cfg['by_epoch'] else 'IterBasedTrainLoop')
    type_name = type_name or _DEFAULT_LOOPS.get(section)
    if not isinstance(type_name, str):
        return None  # a class object given directly
    return resolve_type(type_name, default_scope)


def check_loop_arguments(cfg: Config) -> None:
    """Raise a one-line ValueError for an argument that the loop of
    ``train_cfg`` / ``val_cfg`` / ``test_cfg`` does not take (e.g.
    ``max_epoch``), with the closest one it does."""
    scope = cfg.get('default_scope')
    for section in ('train_cfg', 'val_cfg', 'test_cfg'):
        loop_cfg = cfg.get(section)
        if not isinstance(loop_cfg, dict):
            continue
        cls = loop_class(section, loop_cfg, scope)
        accepted = accepted_arguments(cls) if cls is not None else None
        if accepted is None:
            continue
        accepted = (accepted -
                    _RUNNER_PASSED) | {'type', 'by_epoch', '_scope_'}
        for key in loop_cfg:
            if key not in accepted:
                raise ValueError(
                    f'{section}: {cls.__name__} has no argument `{key}`.'
                    f'{closest(key, accepted)} Its arguments are: '
                    f'{", ".join(sorted(accepted - {"type", "_scope_"}))}.')


def _walk(cfg: Config, parts: List[str]) -> Tuple[int, Any]:
    """How far the path ``parts`` exists in ``cfg``: the index of the first
    missing part (len(parts) when all exist) and the node that lacks it."""
    node: Any = cfg.to_dict()
    for i, part in enumerate(parts):
        if isinstance(node, (list, tuple)):
            if part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
            return i, node
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        return i, node
    return len(parts), node


def _allowed_keys(parent: dict, path: str,
                  default_scope: Optional[str]) -> Optional[Set[str]]:
    """The keys ``parent`` may take: its own and its type's arguments; None
    when nothing constrains them (no type known, or ``**kwargs``)."""
    section = path.split('.')[0]
    if path in ('train_cfg', 'val_cfg', 'test_cfg'):
        cls = loop_class(section, parent, default_scope)
        extra = {'type', 'by_epoch', '_scope_'}
    elif isinstance(parent.get('type'), str):
        cls = resolve_type(parent['type'], default_scope)
        extra = {'type', '_scope_'}
    else:
        return None
    accepted = accepted_arguments(cls) if cls is not None else None
    if accepted is None:
        return None
    return set(parent) | (accepted - _RUNNER_PASSED) | extra


def override_problem(cfg: Config, key: str) -> Optional[str]:
    """Why the override ``key`` cannot do what its writer meant, or None.

    A key may be new (``train_dataloader.dataset.indices`` is an argument
    of the dataset that the config does not set); it is refused when it
    addresses a list entry of a dict or an entry past a list's end, goes
    through a plain value, or is not an argument of the typed component it
    lands in (a misspelling: ``train_cfg.max_epoch``). A new top-level or
    untyped key is refused only when it is one edit away from an existing
    one (``randomnes.seed``)."""
    parts = key.split('.')
    depth, node = _walk(cfg, parts)
    if depth == len(parts):
        return None
    path, part = '.'.join(parts[:depth]), parts[depth]
    shown = f'`{path}`' if path else 'the config'
    if isinstance(node, (list, tuple)):
        return (f'{shown} is a list of {len(node)} entries, so '
                f'`{key}` names no entry of it')
    if not isinstance(node, dict):
        return (f'{shown} is the value {node!r}, not a dict, so `{key}` '
                'cannot be set inside it')
    if part.isdigit():
        return (f'{shown} is a dict (keys: {", ".join(map(str, node))}), '
                f'not a list, so `{key}` would add a key {part!r} and '
                'change nothing')
    allowed = _allowed_keys(node, path, cfg.get('default_scope'))
    if allowed is not None:
        if part in allowed:
            return None
        return (f'{shown} has no key `{part}` and its type does not take '
                f'it.{closest(part, allowed)}')
    hint = difflib.get_close_matches(
        part, [str(k) for k in node], n=1, cutoff=0.85)
    if hint:
        return f'{shown} has no key `{part}`. Did you mean `{hint[0]}`?'
    return None


def check_overrides(cfg: Config, options: Dict[str, Any]) -> Dict[str, Any]:
    """Check ``--cfg-options`` against ``cfg`` before they are merged;
    return them with the new-key marks removed. Raises a one-line
    ValueError naming the key and the fix."""
    checked = {}
    for key, value in options.items():
        if key.startswith(NEW_KEY_MARK):
            checked[key[len(NEW_KEY_MARK):]] = value
            continue
        problem = override_problem(cfg, key)
        if problem is not None:
            raise ValueError(
                f'--cfg-options {key}: {problem}. If the key is meant to be '
                f'new, write it as {NEW_KEY_MARK}{key}=...')
        checked[key] = value
    return checked
