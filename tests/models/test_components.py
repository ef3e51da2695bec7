"""ScaledCopyPaste and the CheckedPretrained initialiser."""
import numpy as np
import pytest
import torch
from mmengine.model import BaseModule

from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from vcl_mm.utils import InputError


def sample(img, masks):
    masks = np.asarray(masks, np.uint8)
    bm = BitmapMasks(masks, *img.shape[:2])
    return dict(
        img=img,
        gt_masks=bm,
        gt_bboxes=bm.get_bboxes(HorizontalBoxes),
        gt_bboxes_labels=np.zeros(len(masks), np.int64),
        gt_ignore_flags=np.zeros(len(masks), bool))


def test_scaled_copy_paste_shrinks_and_places_the_source():
    from vcl_mm.datasets.transforms import ScaledCopyPaste
    np.random.seed(0)
    dst_mask = np.zeros((1, 100, 120), np.uint8)
    dst_mask[0, 10:90, 10:110] = 1
    dst = sample(np.zeros((100, 120, 3), np.float32), dst_mask)
    # source: 50 x 60, one object covering it all, painted 255
    src = sample(
        np.full((50, 60, 3), 255., np.float32), np.ones((1, 50, 60), np.uint8))
    dst['mix_results'] = [src]
    out = ScaledCopyPaste(scale_range=(0.5, 0.5), selected=False)(dst)
    masks = out['gt_masks'].masks
    assert len(masks) == 2  # target (partly occluded) + pasted object
    pasted = masks[1].astype(bool)
    ys, xs = np.nonzero(pasted)
    # r = 0.5 of the *target* size: 50 x 60 pixels
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (50, 60)
    assert (out['img'][pasted] == 255).all()
    assert (out['img'][~pasted] == 0).all()
    assert not (masks[0].astype(bool) & pasted).any()
    box = out['gt_bboxes'].tensor[1].tolist()
    assert box == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_scaled_copy_paste_prob_zero_is_identity():
    from vcl_mm.datasets.transforms import ScaledCopyPaste
    img = np.zeros((20, 20, 3), np.float32)
    dst = sample(img, np.ones((1, 20, 20)))
    dst['mix_results'] = [sample(img + 1, np.ones((1, 20, 20)))]
    out = ScaledCopyPaste(prob=0.)(dst)
    assert len(out['gt_masks']) == 1 and (out['img'] == 0).all()


class Tiny(BaseModule):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.conv = torch.nn.Conv2d(3, 4, 1)
        self.bn = torch.nn.BatchNorm2d(4)


def init_from(path, **kwargs):
    from vcl_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    model = Tiny(
        init_cfg=dict(
            type='CheckedPretrained',
            checkpoint=str(path),
            config_key='model.backbone.init_cfg.checkpoint',
            **kwargs))
    model.init_weights()
    return model


def test_checked_pretrained_loads_matching_weights(tmp_path):
    ref = Tiny()
    torch.nn.init.normal_(ref.conv.weight)
    state = {
        k: v
        for k, v in ref.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    torch.save({'state_dict': state}, tmp_path / 'ok.pth')
    model = init_from(tmp_path / 'ok.pth')
    assert torch.equal(model.conv.weight, ref.conv.weight)


def test_checked_pretrained_missing_file_names_the_key(tmp_path):
    with pytest.raises(InputError, match='model.backbone.init_cfg.checkpoint'):
        init_from(tmp_path / 'absent.pth')


def test_checked_pretrained_reports_mismatched_keys(tmp_path):
    state = Tiny().state_dict()
    state['fc.weight'] = torch.zeros(2)
    state['conv.weight'] = torch.zeros(4, 3, 3, 3)
    del state['bn.bias']
    torch.save(state, tmp_path / 'bad.pth')
    with pytest.raises(InputError) as err:
        init_from(tmp_path / 'bad.pth')
    msg = str(err.value)
    assert '1 missing: bn.bias' in msg
    assert '1 unexpected: fc.weight' in msg
    assert 'conv.weight (4, 3, 3, 3) != (4, 3, 1, 1)' in msg


def test_fp32_pixel_decoder_ignores_autocast():
    from model_helpers import build_tiny_videocutler
    model = build_tiny_videocutler()
    decoder = model.track_head.pixel_decoder
    assert type(decoder).__name__ == 'FP32MSDeformAttnPixelDecoder'
    with torch.no_grad():
        feats = model.backbone(torch.randn(2, 3, 64, 96))
        ref, _ = decoder(feats)
        with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
            out, memorys = decoder([f.bfloat16() for f in feats])
    assert out.dtype == torch.float32
    assert all(m.dtype == torch.float32 for m in memorys)
    assert torch.allclose(out, ref, atol=0.05)
