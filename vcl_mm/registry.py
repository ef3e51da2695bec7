"""vcl_mm's registries: children of mmdet's, in the scope ``vcl_mm``.

Built the way mmdet builds its own on mmengine's (``mmdet/registry.py``):

* a config with ``default_scope = 'vcl_mm'`` (every vcl_mm config) finds
  vcl_mm's components by their bare names and, through the parent, all of
  mmdet's and mmengine's; mmengine imports this module itself when it meets
  the scope, so the config needs no ``custom_imports``;
* a config in mmdet's scope names them ``vcl_mm.Name`` (mmengine's prefix
  for another codebase), or inherits a ``vcl_mm::`` base, whose dicts carry
  ``_scope_ = 'vcl_mm'``;
* ``locations`` import a component's package the first time a registry is
  searched, so neither ``import vcl_mm`` nor this module imports torch or
  registers anything.

Components register here, never into mmdet's registries: a name of ours
that mmdet also uses (``AmpOptimWrapper``, ``Runner``) then means our
version in the ``vcl_mm`` scope and mmdet's everywhere else.
"""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOG_PROCESSORS as MMDET_LOG_PROCESSORS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODEL_WRAPPERS as MMDET_MODEL_WRAPPERS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmdet.registry import WEIGHT_INITIALIZERS as MMDET_WEIGHT_INITIALIZERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import Registry

# Runners hang under mmengine's root registry, not mmdet's (which holds no
# runner): mmdet's tools/train.py builds `runner_type` from the root before
# any scope is set, and mmengine resolves 'vcl_mm.Name' there only among
# the root's direct children.
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['vcl_mm.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=['vcl_mm.engine'])
LOOPS = Registry('loop', parent=MMDET_LOOPS, locations=['vcl_mm.engine'])
HOOKS = Registry('hook', parent=MMDET_HOOKS, locations=['vcl_mm.engine'])

# vcl_mm.datasets itself stays numpy-light (its data formats serve the
# offline evaluators), so the dataset modules are named one by one
DATASET_MODULES = [
    'vcl_mm.datasets.maskcut_dataset', 'vcl_mm.datasets.target_aware_mix',
    'vcl_mm.datasets.davis_dataset', 'vcl_mm.datasets.ytvis_dataset',
    'vcl_mm.datasets.clip_sources'
]
DATASETS = Registry(
    'dataset', parent=MMDET_DATASETS, locations=DATASET_MODULES)
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMDET_DATA_SAMPLERS, locations=DATASET_MODULES)
TRANSFORMS = Registry(
    'transform',
    parent=MMDET_TRANSFORMS,
    locations=['vcl_mm.datasets.transforms'])

MODELS = Registry('model', parent=MMDET_MODELS, locations=['vcl_mm.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMDET_MODEL_WRAPPERS,
    locations=['vcl_mm.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMDET_WEIGHT_INITIALIZERS,
    locations=['vcl_mm.models'])
TASK_UTILS = Registry(
    'task util', parent=MMDET_TASK_UTILS, locations=['vcl_mm.models'])

OPTIMIZERS = Registry(
    'optimizer', parent=MMDET_OPTIMIZERS, locations=['vcl_mm.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMDET_OPTIM_WRAPPERS, locations=['vcl_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['vcl_mm.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMDET_PARAM_SCHEDULERS,
    locations=['vcl_mm.engine'])

METRICS = Registry(
    'metric', parent=MMDET_METRICS, locations=['vcl_mm.evaluation.metrics'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMDET_EVALUATOR,
    locations=['vcl_mm.evaluation.metrics'])

VISUALIZERS = Registry(
    'visualizer',
    parent=MMDET_VISUALIZERS,
    locations=['vcl_mm.visualization.track_visualizer'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMDET_VISBACKENDS,
    locations=['vcl_mm.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMDET_LOG_PROCESSORS,
    locations=['vcl_mm.engine'])
