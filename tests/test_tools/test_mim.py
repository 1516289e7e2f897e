"""mmtst's OpenMMLab model index: the metafiles of configs/{tst,kd,dkd,
funmatch}/ (one model per config, results only from the numbers the
repository records), ``mim search mmtst`` on an installed copy, and the
``mmtst/.mim`` layout an editable install gives mmengine's ``mmtst::``
bases."""
import functools
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from fnmatch import fnmatch

import pytest
import yaml
from conftest import REPO

FOLDERS = ('tst', 'kd', 'dkd', 'funmatch')
METAFILES = [f'configs/{folder}/metafile.yml' for folder in FOLDERS]
# what a checkout copy leaves out: large, generated or per-machine
COPY_IGNORE = shutil.ignore_patterns('.git', '.venv', 'work_dirs', 'data',
                                     'build', '*.egg-info', '.mim',
                                     '__pycache__', 'checkpoints',
                                     '.pytest_cache')
# any download mim might try fails at once instead of reaching a network
OFFLINE = {
    'PIP_NO_INDEX': '1',
    'HTTP_PROXY': 'http://127.0.0.1:9',
    'HTTPS_PROXY': 'http://127.0.0.1:9',
    'http_proxy': 'http://127.0.0.1:9',
    'https_proxy': 'http://127.0.0.1:9',
    'NO_PROXY': '',
    'no_proxy': '',
}


@functools.lru_cache(maxsize=None)
def _load(relative):
    """A YAML or JSON file of the checkout, read once (not to modify)."""
    with open(osp.join(REPO, relative)) as f:
        if relative.endswith('.json'):
            return json.load(f)
        return yaml.safe_load(f)


def _models():
    """(metafile, model entry) of every model in the four metafiles."""
    return [(path, model) for path in METAFILES
            for model in _load(path)['Models']]


def _model_configs(folder):
    """The configs under configs/<folder>/ that are models: every one but
    the shared bases (``_base_*`` files, anything in a ``_base_`` folder)."""
    found = glob.glob(
        osp.join(REPO, 'configs', folder, '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(path, REPO) for path in found if not any(
            part.startswith('_base_')
            for part in osp.relpath(path, REPO).split(os.sep)))


def _pip_install(*args):
    """pip as tools/setup_env.sh runs it for mmtst: offline, no deps, in
    this interpreter's environment (setuptools from the venv)."""
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
        '--no-build-isolation', '--no-index', *map(str, args)
    ],
                   check=True,
                   capture_output=True,
                   timeout=300)


def test_model_index_imports_the_four_metafiles():
    assert sorted(_load('model-index.yml')['Import']) == sorted(METAFILES)


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_has_one_model_per_config(folder):
    meta = _load(f'configs/{folder}/metafile.yml')
    collections = {c['Name'] for c in meta['Collections']}
    configs = [model['Config'] for model in meta['Models']]
    # exactly one entry per config: none missing, none twice, none stale
    assert sorted(configs) == _model_configs(folder)
    for model in meta['Models']:
        assert osp.isfile(osp.join(REPO, model['Config'])), model['Name']
        assert model['In Collection'] in collections, model['Name']
        assert model['Metadata']['Training Data'], model['Name']
        for result in model.get('Results', []):
            assert result['Task'] and result['Dataset'], model['Name']
            assert result['Metrics'], model['Name']


def test_the_index_passes_mims_own_loader():
    """mim reads the index with model-index's loader: its checks (fields,
    files) pass, and model names, mim's row keys, are unique."""
    from modelindex.load_model_index import load
    index = load(osp.join(REPO, 'model-index.yml'))
    assert index.check(silent=True) == []
    names = [model.name for model in index.models]
    assert len(names) == len(set(names))
    assert len(names) == sum(len(_model_configs(f)) for f in FOLDERS)


def _paper_number(model):
    """The benchmarks/reference.yaml number a model's paper result cites,
    after checking that the pair lists exactly this config for the
    method and does not flag it as a stand-in."""
    ref_file, _, key = model['Metadata']['Results Reference'].partition('#')
    assert ref_file == 'benchmarks/reference.yaml', model['Name']
    pair_id, method = key.rsplit('/', 1)
    pair = _load(ref_file)['pairs'][pair_id]
    config = model['Config']
    assert any(fnmatch(config, p) for p in pair['configs'][method])
    assert not any(fnmatch(config, p) for p in pair.get('not_comparable', []))
    return pair['numbers'][method]['value']


def _our_number(model):
    """The final mean docs/results/<set>/ reports for this config."""
    table = model['Metadata']['Results Reference']
    assert fnmatch(table, 'docs/results/*/results.md'), model['Name']
    groups = _load(table.replace('results.md', 'results.json'))['groups']
    means = [
        g['final_mean'] for g in groups
        if {r['config_path']
            for r in g['runs']} == {model['Config']}
    ]
    assert len(means) == 1, model['Name']
    return round(means[0], 2)


def test_results_are_the_recorded_numbers():
    """No number of the index is typed in: each one is the published
    number benchmarks/reference.yaml records for exactly that config
    (``Results Source: paper``) or the mean a docs/results/ table reports
    for a run of it (``ours``)."""
    for _, model in _models():
        source = model['Metadata'].get('Results Source')
        if 'Results' not in model:
            assert source is None, model['Name']
            continue
        (result, ) = model['Results']
        (value, ) = result['Metrics'].values()
        expected = {'paper': _paper_number, 'ours': _our_number}[source]
        assert value == expected(model), model['Name']


def test_every_recorded_number_is_in_the_index():
    """The other way round: a published number that applies to one of
    these configs, or a docs/results/ run of one, is not left out."""
    models = {model['Config']: model for _, model in _models()}
    wanted = set()
    for pair in _load('benchmarks/reference.yaml')['pairs'].values():
        for method, patterns in (pair.get('configs') or {}).items():
            if method not in pair.get('numbers', {}):
                continue
            wanted.update(
                config for config in models
                if any(fnmatch(config, p) for p in patterns) and not any(
                    fnmatch(config, p)
                    for p in pair.get('not_comparable', [])))
    for path in glob.glob(osp.join(REPO, 'docs/results/*/results.json')):
        with open(path) as f:
            for group in json.load(f)['groups']:
                wanted.update(r['config_path'] for r in group['runs']
                              if r['config_path'] in models)
    assert wanted
    missing = sorted(c for c in wanted if 'Results' not in models[c])
    assert not missing


@pytest.fixture(scope='module')
def installed_copy(tmp_path_factory):
    """A regular (non-editable) install of a copy of the checkout in a
    folder of its own, as `pip install mmtst` would give."""
    root = tmp_path_factory.mktemp('mim')
    shutil.copytree(REPO, root / 'src', ignore=COPY_IGNORE)
    _pip_install('--target', root / 'site', root / 'src')
    return root / 'site'


def test_mim_search_lists_every_model(installed_copy, tmp_path):
    """`mim search mmtst` finds the installed package's .mim/model-index.yml
    and lists every model of the four metafiles with its config, offline
    (--json is mim's machine-readable output: {field: {model: value}})."""
    out = tmp_path / 'search.json'
    env = dict(os.environ, PYTHONPATH=str(installed_copy), **OFFLINE)
    proc = subprocess.run(
        [sys.executable, '-m', 'mim', 'search', 'mmtst', '--json',
         str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'PyPI' not in proc.stdout  # mim's remote mode announces itself
    with open(out) as f:
        listed = json.load(f)['config']
    assert listed == {model['Name']: model['Config'] for _, model in _models()}


# Runs in a fresh interpreter without the venv's own site processing
# (python -S): the editable install under test comes first on the path, the
# venv (mmengine, torch) after it, so that neither the checkout's own
# editable mmtst nor its .mim can answer for the copy.
EDITABLE_CHECK = textwrap.dedent('''
    import os, site, sys, tempfile
    editable_site, venv_site, source = sys.argv[1:4]
    site.addsitedir(editable_site)
    site.addsitedir(venv_site)
    import mmtst
    # found through the site-packages link to the checkout's package
    package = os.path.dirname(os.path.realpath(mmtst.__file__))
    assert package == os.path.realpath(os.path.join(source, 'mmtst')), package
    from mmengine.config import Config
    from mmengine.config.utils import _get_external_cfg_base_path
    if sys.argv[4] == 'layout':
        # mmengine's lookup, given the package the import found
        print(_get_external_cfg_base_path(
            package, 'quickstart/probe_mim_link.py'))
        sys.exit(0)
    child = os.path.join(tempfile.mkdtemp(), 'child.py')
    with open(child, 'w') as f:
        f.write("_base_ = ['mmtst::quickstart/probe_mim_link.py']\\n")
    cfg = Config.fromfile(child)
    print(cfg.probe, cfg.model.type)
''')


@pytest.fixture(scope='module')
def editable_copy(tmp_path_factory):
    """An editable install (``pip install -e``, as tools/setup_env.sh
    makes) of a copy of the checkout, in a folder of its own; then a new
    config written into the copy's configs/, which only a live link from
    mmtst/.mim can serve."""
    root = tmp_path_factory.mktemp('editable')
    source = root / 'src'
    shutil.copytree(REPO, source, ignore=COPY_IGNORE)
    _pip_install('--target', root / 'site', '-e', source)
    # as tools/setup_env.sh does after its editable install
    subprocess.run([
        sys.executable,
        str(source / 'tools' / 'link_editable_install.py'),
        str(root / 'site')
    ],
                   check=True)
    with open(source / 'configs' / 'quickstart' / 'probe_mim_link.py',
              'w') as f:
        f.write("_base_ = './kd_resnet20_resnet8_1xb128-4e_fmnist.py'\n"
                "probe = 'served-live'\n")
    return source, root / 'site'


def _run_editable_check(editable_copy, mode):
    source, site = editable_copy
    venv_site = sysconfig.get_paths()['purelib']
    return subprocess.run([
        sys.executable, '-S', '-c', EDITABLE_CHECK,
        str(site), venv_site,
        str(source), mode
    ],
                          cwd=site.parent,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_editable_install_links_mim_to_the_checkout(editable_copy):
    """An editable install makes mmtst/.mim links to the checkout's
    configs/, tools/ and model-index.yml, through which mmengine's
    ``mmtst::`` lookup reaches a config written after the install."""
    source, _ = editable_copy
    mim_dir = source / 'mmtst' / '.mim'
    for name in ('configs', 'tools', 'model-index.yml'):
        assert (mim_dir / name).is_symlink(), name
        assert (mim_dir / name).resolve() == (source / name).resolve()
    proc = _run_editable_check(editable_copy, 'layout')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == [
        str(mim_dir / 'configs' / 'quickstart' / 'probe_mim_link.py')
    ]


def test_editable_install_resolves_mmtst_bases(editable_copy):
    """End to end, as a user config does it: ``_base_ = ['mmtst::...']``
    from an editable install resolves to the checkout's live config."""
    proc = _run_editable_check(editable_copy, 'resolve')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == [
        'served-live', 'mmtst.ClassificationDistiller'
    ]
