"""mmtst's two install profiles and the one-line error for a missing one.

``tools/setup_env.sh`` sets up one of two profiles:

* ``classification``: torch, mmengine, mmpretrain and mmcv-lite (mmcv's
  Python code without its compiled ops). Set up in minutes; enough for
  every classification config and the quick start.
* ``full``: adds mmcv with its compiled ops (a ~20 min build on 2 cores),
  mmdet and mmseg. Needed by the detection / segmentation parts.

Those parts are registered lazily (see :mod:`mmtst.registry`): nothing of
them is imported with ``mmtst.models`` / ``mmtst.datasets``, and using one
without the full profile raises :class:`FullProfileRequired`, whose message
is one line that names the command installing the profile.
"""
import importlib
import importlib.util
import re
from typing import Callable, Dict, Iterable, List, Optional

# What the full profile adds, as (label in messages, module that proves it
# is installed). mmcv-lite ships mmcv/ops/*.py without the compiled
# extension, so it is mmcv._ext that tells the two mmcv builds apart.
FULL_PROFILE_MODULES = (('mmdet', 'mmdet'), ('mmseg', 'mmseg'),
                        ('mmcv with ops', 'mmcv._ext'))
SETUP_FULL = 'make setup-full'
FULL_PROFILE_SCOPES = ('mmdet', 'mmseg')
# mmengine's message for a `pkg::` config path whose package is missing
# ("mmsegmentation is not installed, please install ... manually")
_MISSING_PACKAGE = re.compile(
    r'\b(mmdet|mmseg|mmsegmentation) is not installed')


class FullProfileRequired(ImportError):
    """A detection / segmentation part was used in an environment set up
    with the classification profile."""


def module_available(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it (find_spec
    imports only its parent packages)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent; a blocked import
        return False


def missing_full_profile() -> List[str]:
    """Labels of the full profile's packages this environment lacks."""
    return [
        label for label, module in FULL_PROFILE_MODULES
        if not module_available(module)
    ]


def full_profile_message(what: str, missing: List[str]) -> str:
    """The one-line explanation raised with :class:`FullProfileRequired`."""
    return (f'{what} needs the full profile (mmdet, mmseg, mmcv with ops; '
            f'missing here: {", ".join(missing)}): run `{SETUP_FULL}` '
            '(or `bash tools/setup_env.sh full`)')


def require_full_profile(what: str) -> None:
    """Raise :class:`FullProfileRequired` unless the full profile is here.

    Args:
        what: What needs it, as the user wrote it (a type, a config path).
    """
    missing = missing_full_profile()
    if missing:
        raise FullProfileRequired(full_profile_message(what, missing))


def full_profile_reason(cfg) -> Optional[str]:
    """Why a parsed config needs the full profile (its default scope or
    its model type), or None for a classification config."""
    scope = cfg.get('default_scope')
    if scope in FULL_PROFILE_SCOPES:
        return f"(default_scope '{scope}')"
    model_type = str((cfg.get('model') or {}).get('type', ''))
    from mmtst.registry import FULL_PROFILE_TYPES
    if model_type.split('.')[-1] in FULL_PROFILE_TYPES:
        return f"(model type '{model_type}')"
    return None


def check_config_profile(cfg, config_path: str) -> None:
    """Raise :class:`FullProfileRequired` for a detection / segmentation
    config in a classification set-up, before anything of it is built
    (mmengine would fail later, on some registry key, far from the cause)."""
    reason = full_profile_reason(cfg)
    if reason is not None:
        require_full_profile(f'{config_path} {reason}')


def translate_missing_package(err: ImportError, config_path: str) -> None:
    """Re-raise mmengine's "mmdet is not installed" (a ``mmdet::`` /
    ``mmseg::`` base config) as :class:`FullProfileRequired`."""
    if _MISSING_PACKAGE.search(str(err)):
        missing = missing_full_profile() or ['mmdet', 'mmseg']
        raise FullProfileRequired(full_profile_message(config_path,
                                                       missing)) from err


def load_config(path: str):
    """``Config.fromfile(path)``, failing with one line
    (:class:`FullProfileRequired`) when a detection / segmentation config
    meets a classification set-up: at parse time for a ``mmdet::`` /
    ``mmseg::`` base, else from its default scope or model type."""
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(path)
    except ImportError as err:
        translate_missing_package(err, path)
        raise
    check_config_profile(cfg, path)
    return cfg


def lazy_getattr(
    package: str, names: Dict[str, str], full_profile: Iterable[str] = ()
) -> Callable[[str], object]:
    """A module ``__getattr__`` (PEP 562) that imports ``names[attr]`` (a
    module relative to ``package``) on first access, so that
    ``from mmtst.datasets import FashionMNISTScenes`` keeps working while
    ``import mmtst.datasets`` no longer imports mmdet.

    Args:
        package: The ``__name__`` of the package getting the attributes.
        names: Attribute -> module (relative to ``package``) defining it.
        full_profile: The attributes whose module needs the full profile:
            they raise :class:`FullProfileRequired` without it, not the
            ImportError of whatever the module imports first.
    """
    full_profile = frozenset(full_profile)

    def __getattr__(attr: str):
        if attr not in names:
            raise AttributeError(
                f'module {package!r} has no attribute {attr!r}')
        if attr in full_profile:
            require_full_profile(f'{package}.{attr}')
        module = importlib.import_module(names[attr], package)
        return getattr(module, attr)

    return __getattr__
