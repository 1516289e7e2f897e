"""The benchmark yaml files: the sets (``benchmarks/sets.yaml``) and the
published numbers (``benchmarks/reference.yaml``), and where a set's runs
go.

The files live in the repository's ``benchmarks/`` folder; an installed
(non-editable) copy of mmtst carries them in ``mmtst/.mim/benchmarks/``.
"""
import os.path as osp
from typing import Optional

# realpath: an editable install links site-packages/mmtst to the checkout
PACKAGE_DIR = osp.dirname(osp.dirname(osp.realpath(__file__)))
REPO_ROOT = osp.dirname(PACKAGE_DIR)
# Where the yaml files are looked for, in this order.
CHECKOUT_DIR = osp.join(REPO_ROOT, 'benchmarks')
INSTALLED_DIR = osp.join(PACKAGE_DIR, '.mim', 'benchmarks')


def benchmark_file(name: str) -> str:
    """``benchmarks/<name>`` of the checkout, else of the installed
    package's ``.mim``; the checkout's path when neither exists (loading it
    then says where it looked)."""
    for folder in (CHECKOUT_DIR, INSTALLED_DIR):
        path = osp.join(folder, name)
        if osp.isfile(path):
            return path
    return osp.join(CHECKOUT_DIR, name)


DEFAULT_SETS = benchmark_file('sets.yaml')
DEFAULT_REFERENCE = benchmark_file('reference.yaml')


def load_yaml(path: str) -> dict:
    """A yaml file as a dict.

    Raises:
        FileNotFoundError: A default file is in neither place (one line
            naming both), or a given ``path`` does not exist.
    """
    import yaml
    name = osp.basename(path)
    if not osp.isfile(path) and path == osp.join(CHECKOUT_DIR, name):
        raise FileNotFoundError(
            f'benchmarks/{name} is in neither the checkout ({CHECKOUT_DIR}) '
            f'nor the installed package ({INSTALLED_DIR})')
    with open(path) as f:
        return yaml.safe_load(f)


def load_sets(path: str = DEFAULT_SETS) -> dict:
    """``benchmarks/sets.yaml`` as a dict (``work_root``, ``sets``)."""
    return load_yaml(path)


def load_reference(path: str = DEFAULT_REFERENCE) -> dict:
    """``benchmarks/reference.yaml`` as a dict (``sources``, ``pairs``)."""
    return load_yaml(path)


def set_root(set_name: str,
             sets: dict,
             work_root: Optional[str] = None,
             repo_root: str = REPO_ROOT) -> str:
    """``<work_root>/<set>``, absolute (a relative work root is the repo's).

    Raises:
        KeyError: No such set.
    """
    if set_name not in (sets.get('sets') or {}):
        raise KeyError(f'no set {set_name!r} in the sets file; known: '
                       f"{sorted(sets.get('sets') or {})}")
    root = work_root or sets.get('work_root') or 'work_dirs/benchmark'
    return osp.join(
        root if osp.isabs(root) else osp.join(repo_root, root), set_name)


def add_set_arguments(parser, set_help: str) -> None:
    """The work-dir arguments of the result tools: roots, ``--set``,
    ``--sets``, ``--work-root`` and ``--reference``."""
    parser.add_argument(
        'roots',
        nargs='*',
        help='work dirs to search, or results.json files that '
        'collect_results.py --out wrote (their runs are added)')
    parser.add_argument('--set', help=set_help)
    parser.add_argument('--sets', default=DEFAULT_SETS)
    parser.add_argument('--work-root', help="override the sets file's")
    parser.add_argument('--reference', default=DEFAULT_REFERENCE)


def resolve_roots(parser, args) -> None:
    """Add a ``--set``'s folder to ``args.roots``; refuse no roots at all."""
    if args.set:
        args.roots.append(
            set_root(args.set, load_sets(args.sets), args.work_root))
    if not args.roots:
        parser.error('give work dirs or --set')
