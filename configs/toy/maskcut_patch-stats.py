# MaskCut for the quickstart's generated images: the real NCut, CRF and JSON
# writer, with weight-free patch statistics (PatchStatsExtractor) in place of
# DINO keys, since DINO weights cannot ship with vcl_mm. Not for natural
# images: use maskcut_dino-vitb8_480.py with the DINO weights there.
_base_ = '../maskcut/maskcut_dino-vitb8_480.py'
custom_imports = dict(
    imports=['vcl_mm.maskcut', 'vcl_mm.testing.toy_features'],
    allow_failed_imports=False)

model = dict(_delete_=True, type='PatchStatsExtractor', patch_size=8)
# patch statistics are standardised per image: their cosine similarities
# run higher than DINO keys', so the graph threshold is higher too
maskcut = dict(fixed_size=160, tau=0.5)
