# Overrides that train a recipe on generated images instead of MaskCut's
# ImageNet JSON (vcl_mm.testing.toy_data.write_image_set: <data_root>/images/
# and gt_masks.json, whose true masks stand in for pseudo-masks), read in the
# main process, for a CPU smoke run of 20 iterations at lr 1e-4 in float32.
# The smoke configs of configs/toy/ merge them:
#   train_dataloader = dict(_base_.toy_images_loader, dataset=dict(
#       dataset=dict(_base_.toy_images, pipeline=...)))
# (data_root is the smoke config's recipe variable)
toy_images = dict(
    data_root='${data_root}',
    ann_file='gt_masks.json',
    data_prefix=dict(img='images/'))
toy_images_loader = dict(
    batch_size=2, num_workers=0, persistent_workers=False)
toy_max_iters = 20
toy_optim_wrapper = dict(type='OptimWrapper', optimizer=dict(lr=1e-4))
toy_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=toy_max_iters))
