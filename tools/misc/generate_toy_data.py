"""Write procedurally generated toy data (see vcl_mm/testing/toy_data.py).

Examples::

    # videos with ground-truth tracks (YouTube-VIS + DAVIS layouts)
    python tools/misc/generate_toy_data.py videos data/generated_videos
    # still images with a COCO JSON of their true masks
    python tools/misc/generate_toy_data.py images data/generated_images
"""
import argparse
import json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('kind', choices=['videos', 'images'])
    parser.add_argument('out', help='output folder')
    parser.add_argument('--num', type=int, default=8,
                        help='number of videos or images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--size', type=int, nargs=2, default=(120, 160),
                        metavar=('H', 'W'), help='frame size in pixels')
    parser.add_argument('--frames', type=int, nargs=2, default=(6, 10),
                        metavar=('MIN', 'MAX'), help='frames per video')
    parser.add_argument('--objects', type=int, nargs=2, default=(1, 3),
                        metavar=('MIN', 'MAX'), help='objects per sample')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from vcl_mm.testing import toy_data
    if args.kind == 'videos':
        paths = toy_data.write_video_set(
            args.out, num_videos=args.num, seed=args.seed,
            size=tuple(args.size), frames=tuple(args.frames),
            objects=tuple(args.objects))
        paths.pop('names')
    else:
        paths = toy_data.write_image_set(
            args.out, num_images=args.num, seed=args.seed,
            size=tuple(args.size), objects=tuple(args.objects))
    print(json.dumps(paths, indent=1))


if __name__ == '__main__':
    main()
