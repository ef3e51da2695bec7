# Runtime shared by every vcl_mm config.
default_scope = 'mmdet'
# the modules that register vcl_mm's components (= vcl_mm.utils.setup_env.
# REGISTERING_MODULES); importing vcl_mm itself registers nothing
custom_imports = dict(
    imports=[
        'vcl_mm.datasets.transforms',
        'vcl_mm.datasets.maskcut_dataset',
        'vcl_mm.datasets.target_aware_mix',
        'vcl_mm.datasets.davis_dataset',
        'vcl_mm.datasets.ytvis_dataset',
        'vcl_mm.engine',
        'vcl_mm.evaluation.metrics',
        'vcl_mm.models',
    ],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=5000,
        save_last=True,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='TrackVisualizationHook', draw=False))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='TrackLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

log_level = 'INFO'
load_from = None
resume = False
