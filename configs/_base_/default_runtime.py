# What vcl_mm adds to mmdet's runtime (default_scope 'mmdet', hooks, logging,
# TrackLocalVisualizer, env_cfg with nccl: tools/train.py switches to gloo
# when no GPU is present), which every vcl_mm config inherits through
# schedules/videocutler_80k.py: the modules that register vcl_mm's
# components (= vcl_mm.utils.setup_env.REGISTERING_MODULES); importing
# vcl_mm itself registers nothing.
custom_imports = dict(
    imports=[
        'vcl_mm.datasets.transforms',
        'vcl_mm.datasets.maskcut_dataset',
        'vcl_mm.datasets.target_aware_mix',
        'vcl_mm.datasets.davis_dataset',
        'vcl_mm.datasets.ytvis_dataset',
        'vcl_mm.datasets.clip_sources',
        'vcl_mm.engine',
        'vcl_mm.evaluation.metrics',
        'vcl_mm.models',
    ],
    allow_failed_imports=False)
