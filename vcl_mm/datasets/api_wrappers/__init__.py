"""Data formats: COCO RLE masks (:mod:`.masks`, numpy + pycocotools), the
DAVIS folder layout and palette PNGs (:mod:`.davis_format`, + PIL), and
the YouTube-VIS JSON on mmdet's ``YTVIS`` API (:mod:`.ytvis_api`, + numba,
orjson and mmdet). Datasets and evaluation both import them from here."""
