"""Class-agnostic COCO AP/AR (box and mask) of a pseudo-label JSON.

Scores MaskCut's pseudo-masks (or any COCO instances JSON) against a
COCO-format ground truth of the same images, every category mapped to one,
with a per-image report::

    python tools/analysis_tools/eval_pseudo_masks.py maskcut.json \\
        data/coco/annotations/instances_val2017.json \\
        --out work_dirs/pq/report.json --per-image work_dirs/pq/images.csv

Images are matched by file name (by id when no file name matches). Masks
without a ``score`` rank by discovery order within their image (see
``vcl_mm.evaluation.pseudo_masks``). Needs numpy, pycocotools and tqdm
only (as the MaskCut stage): no torch, mmcv, mmdet or mmengine.
"""
import argparse
import csv
import json

from vcl_mm.evaluation.pseudo_masks import (REPORT_FIELDS, STAT_NAMES,
                                            evaluate_pseudo_masks)
from vcl_mm.utils.errors import require_writable
from vcl_mm.utils.launch import cli_main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='class-agnostic COCO AP/AR of pseudo-masks against a '
        'COCO-format ground truth')
    parser.add_argument('pseudo_json', help='pseudo-label JSON (COCO)')
    parser.add_argument('gt_json', help='ground-truth JSON (COCO)')
    parser.add_argument('--out', help='write the whole report as JSON')
    parser.add_argument(
        '--per-image', help='write the per-image report as CSV')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def _write(path, write):
    with open(path, 'w', newline='') as f:
        write(f)


def format_table(report):
    """The two rows of COCO stats and the per-image summary, as text."""
    lines = ['        ' + ' '.join(f'{n:>6}' for n in STAT_NAMES)]
    for kind, label in (('bbox', 'box'), ('segm', 'mask')):
        # pycocotools' -1: no object in that area range
        lines.append(f'{label:<8}' + ' '.join(
            f'{100 * report[kind][n]:6.2f}' if report[kind][n] >= 0 else
            f'{"n/a":>6}' for n in STAT_NAMES))
    s = report['summary']
    fmt = (lambda v: 'n/a' if v is None else f'{v:.4f}')
    lines.append(
        f'{s["images"]} images (matched by {s["matched_by"]}), '
        f'{s["objects"]} objects, {s["pseudo_masks"]} pseudo-masks ranked '
        f'by {s["ranked_by"]}; recall@0.5 of the best IoU '
        f'{fmt(s["recall50"])}, mean best IoU {fmt(s["mean_best_iou"])}')
    return '\n'.join(lines)


@cli_main
def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.out, 'report JSON (--out)'),
                       (args.per_image, 'per-image CSV (--per-image)')):
        if path:  # before the work, not after it
            require_writable(path, what)
    report = evaluate_pseudo_masks(
        args.pseudo_json, args.gt_json, progress=not args.no_progress)
    print(format_table(report))
    if args.out:
        _write(args.out, lambda f: json.dump(report, f, indent=1))
        print(f'report: {args.out}')
    if args.per_image:

        def write_csv(f):
            writer = csv.DictWriter(f, fieldnames=REPORT_FIELDS)
            writer.writeheader()
            writer.writerows(report['per_image'])

        _write(args.per_image, write_csv)
        print(f'per-image report: {args.per_image}')


if __name__ == '__main__':
    main()
