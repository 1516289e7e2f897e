"""mmtst's registries: children of mmengine's roots, scope ``mmtst``.

Configs keep the default scope of the toolbox they distil (``mmpretrain``,
``mmdet``, ``mmseg``) so that the teacher and student configs resolve as they
do there, and name mmtst's components with the scope prefix, e.g.
``type='mmtst.ClassificationDistiller'``. The ``locations`` make that prefix
import the implementing modules on first use: no ``custom_imports`` needed.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, locations=['mmtst.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmtst.engine'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmtst.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmtst.datasets'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmtst.evaluation'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['mmtst.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, locations=['mmtst.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmtst.engine'])
