# Video stage schedule of VideoCutLER (official command line) on mmdet's
# VideoMask2Former R50 recipe, the root of every vcl_mm training and
# evaluation config: mmdet's AdamW (weight decay 0.05, 0 on norms and
# embeddings, backbone lr x0.1, full-model grad-norm clip 0.01), runtime and
# iteration loop, with lr 5e-6, 80k iterations and a step at 79,999
# (constant lr), a checkpoint every 5k iterations (the last 3 kept), 16 clips
# per batch in total (auto_scale_lr rescales lr for other totals).
#
# Lineage (mmengine allows a full mmdet config once per lineage, and its keys
# collide with any sibling base defining data, model or schedule, so each
# file overrides its parent): this file -> models/video_mask2former_r50.py
# -> models/videocutler_r50_test.py or models/mask2former_r50_cls_agnostic.py
# -> datasets/* -> the recipes. default_runtime.py adds what mmdet's runtime
# lacks (the modules that register vcl_mm).
_base_ = [
    'mmdet::mask2former_vis/mask2former_r50_8xb2-8e_youtubevis2019.py',
    '../default_runtime.py'
]

# vcl_mm's components by their bare names, mmdet's and mmengine's through
# the parent registries (vcl_mm/registry.py); mmengine imports vcl_mm's
# registry itself when it meets the scope, so no custom_imports are needed
default_scope = 'vcl_mm'

max_iters = 80000
# mmdet's config marks its components _scope_='mmdet'; these are built in
# ours: the model holds vcl_mm parts (heads, pixel decoder), the optim
# wrapper's AmpOptimWrapper (what --amp asks for) is the device-aware one,
# and the loops build the (vcl_mm) datasets and metrics inside their scope
model = dict(_scope_='vcl_mm')
optim_wrapper = dict(_scope_='vcl_mm', optimizer=dict(lr=5e-6))
param_scheduler = dict(end=max_iters, milestones=[79999])
train_cfg = dict(
    _scope_='vcl_mm', max_iters=max_iters, val_interval=max_iters + 1)
val_cfg = dict(_scope_='vcl_mm')
test_cfg = dict(_scope_='vcl_mm')
auto_scale_lr = dict(enable=False, base_batch_size=16)
default_hooks = dict(checkpoint=dict(interval=5000, max_keep_ckpts=3))
# mmdet's TrackLocalVisualizer drawing with OpenCV (no seaborn needed): the
# test hook (--show-dir), browse_dataset.py and the demo draw alike
visualizer = dict(type='vcl_mm.TrackOverlayVisualizer')
