"""Plot a TST run's learned policy (p and m of every op, one panel per op)
over its augmenter passes.

Usage:
    python tools/analysis/plot_policy.py WORK_DIR [--out policy.png]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtst.apis import run_friendly
from mmtst.visualization import plot_policy, read_policy_records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir of a TST run')
    parser.add_argument('--out', help='PNG path (default WORK_DIR/policy.png)')
    args = parser.parse_args()
    out = args.out or osp.join(args.work_dir, 'policy.png')
    plot_policy(read_policy_records(args.work_dir), out)
    print(f'wrote {out}')


if __name__ == '__main__':
    run_friendly(main)
