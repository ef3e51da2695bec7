"""Data formats (numpy / pycocotools / PIL only; no torch, no mmdet import):
COCO RLE masks (:mod:`.masks`), the DAVIS folder layout and palette PNGs
(:mod:`.davis_format`) and the YouTube-VIS JSON on mmdet's ``YTVIS`` API
(:mod:`.ytvis_api`). Datasets and evaluation both import them from here."""
