"""Evaluate DAVIS-2017 unsupervised results offline (J, F, J&F).

Results are indexed PNGs ``RESULTS_DIR/<seq>/<frame>.png`` named like the
ground-truth frames, at most 20 proposal ids per sequence. Prints the
global and per-sequence tables; ``--out`` writes a JSON with the global
measures as fractions (J&F-Mean J-Mean J-Recall J-Decay F-Mean F-Recall
F-Decay), ``per_sequence`` and ``per_object``.

Examples::

    python tools/analysis_tools/eval_davis.py --davis-root data/DAVIS \
        --results-dir work_dirs/davis_pngs --split val --out davis.json
"""
import argparse
import json
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='DAVIS unsupervised J&F of indexed-PNG results')
    parser.add_argument('--davis-root', required=True, help='DAVIS root')
    parser.add_argument(
        '--results-dir', required=True, help='folder of <seq>/<frame>.png')
    parser.add_argument(
        '--split', default='val', help='ImageSets/2017 split (default val)')
    parser.add_argument(
        '--task',
        default='unsupervised',
        choices=['unsupervised'],
        help='protocol (only unsupervised)')
    parser.add_argument(
        '--resolution',
        default='480p',
        help="annotation/frame sub-folder (default 480p; '' for none)")
    parser.add_argument(
        '--ann-dir',
        help='explicit annotation folder, relative to the root '
        '(e.g. a DAVIS-2017-Motion re-annotation)')
    parser.add_argument('--out', help='write the measures here (JSON)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.utils.launch import cli_main

    @cli_main
    def run():
        from vcl_mm.utils import require_writable
        if args.out:  # before the evaluation, not after it
            require_writable(args.out, 'measures file', 'pass another --out')
        from vcl_mm.evaluation.functional.davis_eval import \
            format_davis_table
        from vcl_mm.evaluation.functional.davis_folder import \
            evaluate_davis_folder
        start = time.time()
        summary = evaluate_davis_folder(
            args.davis_root,
            args.results_dir,
            split=args.split,
            task=args.task,
            resolution=args.resolution,
            ann_dir=args.ann_dir)
        print(f'DAVIS {args.task} evaluation, split {args.split} '
              f'({time.time() - start:.1f} s)')
        print(format_davis_table(summary))
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(summary, f, indent=1)
        return summary

    return run()


if __name__ == '__main__':
    main()
