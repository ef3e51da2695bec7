# Real training clips from the user's unlabeled videos, labelled by the
# model itself (self-training: tools/self_train.py). Each round
# writes a YouTube-VIS JSON of the kept tracks; YTVISDataset reads it and
# UniformClipSample (mmdet's sampling) draws clips of the recipe's num_frames
# within pseudo_frame_range of a random key frame (as upstream
# VideoMask2Former samples YouTube-VIS) among the frames that have a
# pseudo-mask (mmdet's filter_data drops the others). A track absent from
# some of a clip's frames keeps zero masks there (the head's
# mask_loss_on_labelled_frames switch drops those frames from its mask
# loss). tools/self_train.py sets ann_file and data_prefix per round.
pseudo_frame_range = 20
pseudo_scales = [(1333, 360), (1333, 480)]
pseudo_frame_steps = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='LoadTrackAnnotations', with_mask=True),
    dict(
        type='RandomChoiceResize',
        scales=pseudo_scales,
        keep_ratio=True,
        resize_type='D2Resize'),
    dict(type='RandomFlip', prob=0.5),
]
pseudo_clip_pipeline = [
    dict(
        type='UniformClipSample',
        num_frames='${num_frames}',
        frame_range=pseudo_frame_range,
        filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=pseudo_frame_steps),
    dict(type='PackTrackInputs')
]
pseudo_clips = dict(
    type='YTVISDataset',
    class_agnostic=True,
    data_root='',
    ann_file='',  # set per round by tools/self_train.py
    data_prefix=dict(img_path=''),
    pipeline=pseudo_clip_pipeline)

# The self-training loop (vcl_mm/apis/self_training.py); our choices, no
# official recipe exists for VideoCutLER (AutoQ-VIS, arXiv 2508.19808,
# filters its pseudo-tracks by a learned quality score; these are simple
# measurable rules instead).
self_training = dict(
    # index of the pseudo-labelled source in train_dataloader.dataset.datasets
    pseudo_source=1,
    # windowed tracker over whole videos (vcl_mm.apis.inference.track_video)
    tracker=dict(window_size=30, window_overlap=4, short_side=360),
    # keep every frame_stride-th frame of each video
    frame_stride=1,
    # quality filter (vcl_mm.apis.pseudo_labels.select_tracks), in order:
    filter=dict(
        score_thr=0.5,  # mean query score over the video
        min_area=64,  # px; smaller masks count as absent in that frame
        min_frames=2,  # frames with a mask
        min_temporal_iou=0.5,  # mean IoU of consecutive frames' masks
        max_overlap=0.5,  # video mask IoU with a better kept track
        max_tracks=10))  # per video, best scores first
