# MaskCut pseudo-labels as released with CutLER / VideoCutLER: DINO ViT-B/8
# keys, 480x480 input (60x60 patches), tau = 0.15, up to 3 masks per image,
# dense CRF. Run: python tools/maskcut.py --input DIR --out OUT.json
# (torchrun --nproc_per_node N tools/maskcut.py ... --launcher pytorch).
default_scope = 'mmdet'
custom_imports = dict(imports=['vcl_mm.maskcut'], allow_failed_imports=False)

model = dict(
    type='DinoViTKeyExtractor',
    arch='base',  # 768-d keys, 12 layers, 12 heads
    patch_size=8,
    # the official DINO release file (keys as in timm); other layouts:
    # tools/model_converters/dino_vit_to_maskcut.py
    weights='checkpoints/dino_vitbase8_pretrain.pth',
    random_init=False,
    feature='k',  # last-block keys (official); 'q', 'v' or 'kqv' (concat)
    # None: float32 (official); 'bfloat16' / 'float16' run the ViT under
    # autocast (agreement with float32: benchmarks/maskcut_precision_bench.py)
    autocast_dtype=None)

maskcut = dict(
    fixed_size=480,  # resize to 480x480 (LANCZOS, aspect ratio not kept)
    tau=0.15,  # released labels; upstream script's stale default is 0.2
    num_masks=3,  # NCut solves per image (upstream N)
    min_area=0.01,  # later masks covering <= 1% of the grid are rejected
    max_iou=0.5,  # later masks with IoU > 0.5 vs the previous are rejected
    solver=dict(
        # the sign-dependent case of the foreground rules is settled as
        # upstream's LAPACK solver settles it ('corners' / 'seed' instead)
        sign='lapack',
        dtype='float32',  # GEMMs with the 0/1 affinity; rest in float64
        block_size=8,
        tol=1e-6,
        max_iter=300),
    crf=dict(  # None disables it (--cfg-options maskcut.crf=None)
        # 'pydensecrf' (official, CPU) or 'torch': the same CRF on the job's
        # device, batched (vcl_mm/maskcut/crf_torch.py; parity and speed:
        # benchmarks/crf_bench.py)
        backend='pydensecrf',
        iterations=10,
        gaussian_sxy=3,
        gaussian_compat=7,
        bilateral_sxy=50,
        bilateral_srgb=5,
        bilateral_compat=10,
        min_iou=0.5))  # drop masks the CRF changed to IoU < 0.5

engine = dict(
    batch_size=1,  # images per ViT forward (and batched NCut)
    min_image_size=16,  # shorter side below this: skipped, with reason
    # EXIF orientation ignored, as upstream and the training pipelines
    # (color_ignore_orientation); True rotates (then train with 'color')
    exif_transpose=False,
    flush_every=50,  # images per atomically written part file
    flush_seconds=120,  # ... or write one at least this often
    # stages overlapped: decoding in DataLoader workers, keys + NCut on the
    # device, CRF + resize back + RLE in a process pool (same JSON as the
    # serial reference engine, pipelined=False)
    pipelined=True,
    num_workers=None,  # decoding processes; None: from the CPUs this rank has
    post_workers=None,  # CRF/RLE processes; None: from the CPUs (torch CRF:
    # the CRF runs on the device in the main loop, the pool only encodes)
    start_method=None)  # None: fork on Linux, spawn elsewhere
