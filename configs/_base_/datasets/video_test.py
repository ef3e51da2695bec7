# The official VideoCutLER test input, shared by the YouTube-VIS and DAVIS
# evaluation bases: every frame of a video in one sample, pixels as stored
# (no EXIF rotation, as MaskCut, training and the demo read them), short
# side 360 with the long side <= 1333 by detectron2's test resize (PIL
# bilinear, antialiased), and float16 autocast on GPUs (DeviceAutocastTestLoop
# 'auto': float32 on CPU; the pixel decoder stays float32).
_base_ = '../models/videocutler_r50_test.py'

backend_args = None
test_frame_steps = dict(
    type='TransformBroadcaster',
    transforms=[
        dict(
            type='LoadImageFromFile',
            color_type='color_ignore_orientation',
            backend_args=backend_args),
        dict(
            type='Resize',
            scale=(1333, 360),
            keep_ratio=True,
            backend='pillow',
            interpolation='bilinear'),
    ])
test_cfg = dict(_delete_=True, type='DeviceAutocastTestLoop', fp16='auto')
