"""mmtst's registries: children of mmengine's roots, scope ``mmtst``.

Configs keep the default scope of the toolbox they distil (``mmpretrain``,
``mmdet``, ``mmseg``) so that the teacher and student configs resolve as they
do there, and name mmtst's components with the scope prefix, e.g.
``type='mmtst.ClassificationDistiller'``. The ``locations`` make that prefix
import the implementing modules on first use: no ``custom_imports`` needed.

The detection and segmentation parts are not in those locations: they are
registered lazily (``LAZY_MODELS``, ``LAZY_DATASETS``), their module
imported when a config first names them. A classification set-up (mmcv-lite,
no mmdet / mmseg) thus never imports them, and naming one there raises
:class:`~mmtst.utils.profiles.FullProfileRequired` (one line: run
``make setup-full``) instead of an ImportError from deep inside mmdet.
"""
from importlib import import_module
from typing import Dict, Optional, Tuple, Type

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

from mmtst.utils.profiles import require_full_profile

# name -> (module that registers it, whether it needs the full profile).
# The seg-distillation losses are plain torch: lazy only so that a
# classification run does not load them.
LAZY_MODELS: Dict[str, Tuple[str, bool]] = {
    'DetectionDistiller':
    ('mmtst.models.algorithms.detection_distiller', True),
    'SegmentationDistiller':
    ('mmtst.models.algorithms.segmentation_distiller', True),
    'PixelWiseKL': ('mmtst.models.losses.pixel_kl', False),
    # imports mmpretrain's models: only when an (exported) config names it
    'GreyClsDataPreprocessor':
    ('mmtst.models.data_preprocessors.grey_cls', False),
    'ChannelWiseDivergence':
    ('mmtst.models.losses.channel_wise_divergence', False),
}
LAZY_DATASETS: Dict[str, Tuple[str, bool]] = {
    'FashionMNISTScenes': ('mmtst.datasets.scenes_dataset', True),
    'FashionMNISTSceneSegmentation':
    ('mmtst.datasets.scenes_seg_dataset', True),
}
# the registered names a config may only use with the full profile
FULL_PROFILE_TYPES = frozenset(
    name for table in (LAZY_MODELS, LAZY_DATASETS)
    for name, (_, full) in table.items() if full)


class LazyRegistry(Registry):
    """A Registry that imports the module of a ``lazy`` entry when the
    entry is first asked for, after checking the profile it needs.

    Args:
        lazy: Name -> (module registering it, needs the full profile).
        Others as :class:`mmengine.registry.Registry`.
    """

    def __init__(self,
                 *args,
                 lazy: Optional[Dict[str, Tuple[str, bool]]] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy or {})

    def get(self, key: str) -> Optional[Type]:
        """As :meth:`Registry.get`, registering a lazy entry first."""
        if isinstance(key, str):
            scope, name = self.split_scope_key(key)
            if (scope in (None, self.scope) and name in self._lazy
                    and name not in self._module_dict):
                module, needs_full = self._lazy[name]
                if needs_full:
                    require_full_profile(f'mmtst.{name}')
                import_module(module)
        return super().get(key)

    def lazy_names(self):
        """The names registered on first use (for "did you mean")."""
        return sorted(self._lazy)


MODELS = LazyRegistry(
    'model',
    parent=MMENGINE_MODELS,
    scope='mmtst',
    locations=['mmtst.models'],
    lazy=LAZY_MODELS)
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['mmtst.engine'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmtst.engine'])
DATASETS = LazyRegistry(
    'dataset',
    parent=MMENGINE_DATASETS,
    scope='mmtst',
    locations=['mmtst.datasets'],
    lazy=LAZY_DATASETS)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmtst.datasets'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmtst.evaluation'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmtst.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmtst.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmtst.engine'])
