# The image stage on pseudo-masks seen as polygons, as upstream's LSJ mapper
# reads them (detectron2's default polygon format; the base YAML names a
# *_polygon dataset): after the crop, each pseudo-mask is replaced by the
# rasterised union of its outer contours (holes filled, parts with fewer
# than 3 vertices dropped), then empty ones are filtered. The recipe itself
# trains on MaskCut's RLE bitmaps (configs/cutler/README.md).
_base_ = './cutler_mask2former_r50_8xb2-lsj-160k_imagenet.py'

load_pipeline = [
    step for t in _base_.load_pipeline
    for step in ([dict(type='MasksAsPolygons'), t]
                 if t['type'] == 'FilterAnnotations' else [t])
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=load_pipeline)))
