# The VideoCutLER video model (Video Mask2Former R50, 1 class, 100 queries)
# with the official test: whole video in one forward, top-10 queries by
# foreground probability, no score threshold, masks at logit 0. Base of the
# zero-shot evaluation configs (configs/videocutler/eval_*.py); the training
# recipe sets the same test_cfg.
_base_ = './video_mask2former_r50.py'

model = dict(
    type='VideoCutLER',
    track_head=dict(
        type='VideoCutLERTrackHead',
        # float32 under autocast (test fp16 on GPU, AMP training), as
        # upstream
        pixel_decoder=dict(type='FP32MSDeformAttnPixelDecoder')),
    test_cfg=dict(
        topk=10,
        score_thr=None,
        mask_thr=0.,
        # window_size=N: N-frame windows linked into tracks (bounded memory
        # for long videos); None: the whole video at once (official)
        window_size=None,
        window_overlap=4,
        frame_chunk=None))
