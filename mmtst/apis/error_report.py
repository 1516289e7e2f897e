"""Where an error came from, in one short clause for the one-line report.

A shape error raised deep inside torch (a forgotten FPN ``in_channels``)
says what went wrong but not where; the full traceback says where but
buries it. The report names the innermost frame in a model toolbox or in
mmtst (mmcv's bricks, mmengine and torch are the machinery every model
goes through, so they are skipped) and, when the frame is a module's
method, the config key that builds that module.
"""
import os.path as osp
from types import TracebackType
from typing import Any, List, Optional

#: packages whose frames are the user's model (or mmtst's own code)
MODEL_PACKAGES = ('mmtst', 'mmpretrain', 'mmdet', 'mmseg')

_config: Optional[dict] = None


def remember_config(cfg) -> None:
    """Keep the prepared config, to name the key of a failing module."""
    global _config
    _config = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)


def remembered(key: str) -> Any:
    """The top-level ``key`` of the remembered config (None when no config
    was remembered or it has no such key)."""
    return (_config or {}).get(key)


def _package_path(filename: str) -> Optional[str]:
    """``filename`` from its model package on (``mmdet/models/necks/
    fpn.py``), or None for any other file."""
    parts = osp.normpath(filename).split(osp.sep)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in MODEL_PACKAGES:
            return '/'.join(parts[i:])
    return None


def config_keys_of(type_name: str, node: Any, path: str) -> List[str]:
    """The keys under ``path`` whose ``type`` is ``type_name`` (with or
    without a scope prefix)."""
    found = []
    if isinstance(node, dict):
        if str(node.get('type', '')).split('.')[-1] == type_name:
            found.append(path)
        for key, value in node.items():
            found += config_keys_of(type_name, value,
                                    f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += config_keys_of(type_name, value, f'{path}.{i}')
    return found


def error_location(tb: Optional[TracebackType]) -> str:
    """`` (at mmdet/models/necks/fpn.py:186 in FPN.forward, config key
    model.student.neck)`` for the innermost model frame of ``tb``; empty
    when no frame is in a model package."""
    frames = []
    while tb is not None:
        frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    for frame, line in reversed(frames):
        where = _package_path(frame.f_code.co_filename)
        if where is None:
            continue
        owner = frame.f_locals.get('self')
        name = frame.f_code.co_name
        keys: List[str] = []
        if owner is not None:
            cls_name = type(owner).__name__
            name = f'{cls_name}.{name}'
            if _config and 'model' in _config:
                keys = config_keys_of(cls_name, _config['model'], 'model')
        key_note = f', config key {" or ".join(keys[:2])}' if keys else ''
        return f' (at {where}:{line} in {name}{key_note})'
    return ''
