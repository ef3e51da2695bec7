"""Evaluate YouTube-VIS results offline (official YTVOSeval protocol).

Prints the 12 official statistics; ``--out`` writes them as fractions to a
JSON file with keys AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl.

Examples::

    python tools/analysis_tools/eval_ytvis.py data/ytvis_2019/train.json \
        work_dirs/eval/results.json --class-agnostic --out stats.json
"""
import argparse
import json
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='YouTube-VIS AP/AR of a results file')
    parser.add_argument('gt_json', help='official ground-truth JSON')
    parser.add_argument(
        'results_json',
        help='results: [{video_id, score, category_id, segmentations}]')
    parser.add_argument(
        '--class-agnostic',
        action='store_true',
        help='ignore categories (useCats=0), as VideoCutLER reports')
    parser.add_argument('--out', help='write the 12 statistics here (JSON)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main

    @cli_main
    def run():
        from vcl_mm.utils import require_writable
        if args.out:  # before the evaluation, not after it
            require_writable(args.out, 'statistics file', 'pass another --out')
        from vcl_mm.evaluation.functional.ytvis_eval import (STAT_NAMES,
                                                             evaluate_ytvis,
                                                             format_stats)
        start = time.time()
        stats = evaluate_ytvis(
            args.gt_json,
            args.results_json,
            class_agnostic=args.class_agnostic)
        mode = 'class-agnostic' if args.class_agnostic else 'class-aware'
        print(f'YouTube-VIS evaluation ({mode}, '
              f'{time.time() - start:.1f} s)')
        print(format_stats(stats))
        out = {k: float(stats[k]) for k in STAT_NAMES}
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(out, f, indent=1)
        return out

    return run()


if __name__ == '__main__':
    main()
