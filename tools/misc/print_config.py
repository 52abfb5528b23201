"""Print the whole config after inheritance and ``--cfg-options``, as
mmpretrain's and mmseg's ``tools/misc/print_config.py``::

    python tools/misc/print_config.py configs/depth_pixpro_synthetic.py
    python tools/misc/print_config.py configs/depth_pixpro_synthetic.py \
        --cfg-options train_cfg.max_iters=50

``--cfg-options`` is checked as ``tools/train.py`` checks it (an unknown
top-level key warns, a number must stay a number).
"""
import argparse
from typing import List, Optional

from projects.depth_pixpro.cfg_options import CfgOptionsAction, load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config settings, key=value, as tools/train.py')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    """Print (and return) the config's text."""
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    text = cfg.pretty_text
    print(f'Config:\n{text}')
    return text


if __name__ == '__main__':
    main()
