# What vcl_mm adds to mmdet's runtime (hooks, logging, TrackLocalVisualizer,
# env_cfg), which every vcl_mm config inherits through
# schedules/videocutler_80k.py (which also sets default_scope = 'vcl_mm':
# mmdet's config, a sibling here, defines that key):
# - the runner that carries what our tools used to switch on (checkpoint
#   loading under torch >= 2.6, strict weights, gloo on CPU-only machines,
#   recipe variables '${name}'): vcl_mm.engine.DeviceAwareRunner. `--amp` of
#   any train.py asks for AmpOptimWrapper, which is device-aware here.
# scoped name: mmdet's tools build the runner before any default scope is set
runner_type = 'vcl_mm.DeviceAwareRunner'
# weights that do not fit the model are refused with their key names; True
# loads the matching ones and logs the rest (mmengine's default)
allow_partial_load = False
