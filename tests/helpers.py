"""Helpers shared by the tests."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relative_path: str):
    """Import a tool (``tools/`` is not a package) from its path relative
    to the repository, e.g. ``'tools/analysis/collect_results.py'``."""
    path = osp.join(REPO, relative_path)
    name = '_tool_' + osp.splitext(relative_path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(*args,
               env=None,
               threads: int = 1,
               timeout: int = 600,
               **popen_kwargs):
    """Run ``python *args`` from the repository root and return ``(exit
    code, stdout + stderr)``. ``PYTHONPATH`` is the repository and
    ``OMP_NUM_THREADS`` is ``threads``; ``env`` adds variables (a value of
    None removes one inherited from the test's own environment);
    ``popen_kwargs`` (``start_new_session``, ``preexec_fn``) go to
    :func:`subprocess.run`."""
    full_env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(threads))
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run([sys.executable, *args],
                          cwd=REPO,
                          env=full_env,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          **popen_kwargs)
    return proc.returncode, proc.stdout + proc.stderr


def run_tool(*args) -> str:
    """Run ``python *args`` from the repository root (one tool run, two
    threads, no unsafe-load opt-in inherited); assert it exits 0 and
    return its output."""
    code, output = run_python(
        *args, env=dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=None), threads=2)
    assert code == 0, output[-4000:]
    return output


def run_train(config,
              work_dir,
              *extra,
              options=(),
              python_args=(),
              **run_kwargs):
    """Run ``tools/train.py config --work-dir work_dir *extra --cfg-options
    *options`` through :func:`run_python` (``run_kwargs``: ``env``,
    ``threads``, ``timeout`` and its ``subprocess.run`` arguments) and
    return ``(exit code, stdout + stderr)``: the one way the end-to-end
    tests start a training run. ``python_args`` go to the interpreter
    before the tool (e.g. ``['-c', wrapper]``)."""
    cmd = [
        *python_args,
        osp.join(REPO, 'tools', 'train.py'),
        str(config), '--work-dir',
        str(work_dir), *extra
    ]
    if options:
        cmd += ['--cfg-options', *options]
    return run_python(*cmd, **run_kwargs)


def tiny_classifier(
        arch: str = 'resnet8',
        num_classes: int = 10,
        in_channels: int = 1,
        mean=(72.94, ),
        std=(90.02, ),
) -> dict:
    """An mmpretrain ImageClassifier config around mmtst's CifarResNet,
    for Fashion-MNIST (one grey channel, ten classes) by default."""
    from mmtst.benchmarks.synthetic import cifar_resnet_classifier
    return cifar_resnet_classifier(arch, num_classes, in_channels, mean, std)


def tiny_fmnist_data_options(data_root) -> list:
    """``--cfg-options`` that shrink a Fashion-MNIST config's data: 64
    training images, 32 validation / test images, no loader workers, the
    data under ``data_root``."""
    options = ['train_dataloader.dataset.indices=64']
    for split in ('train', 'val', 'test'):
        if split != 'train':
            options.append(f'{split}_dataloader.dataset.indices=32')
        options += [
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
            f'{split}_dataloader.dataset.data_root={data_root}'
        ]
    return options


def tiny_quickstart_options(data_root) -> list:
    """``--cfg-options`` that make the quick-start TST config a seconds-long
    run: :func:`tiny_fmnist_data_options` (one 4-iteration epoch after one
    augmenter pass) and a random teacher."""
    return tiny_fmnist_data_options(data_root) + [
        'train_dataloader.batch_size=16', 'default_hooks.logger.interval=2',
        'train_cfg.max_epochs=1', 'train_cfg.phases_at_epochs=[0]',
        'model.teacher_ckpt=None', 'model.allow_random_teacher=True'
    ]


def assert_full_profile_error(proc, config: str) -> None:
    """``proc`` (a finished ``subprocess.run`` of tools/train.py or
    tools/test.py on a detection / segmentation ``config`` in a
    classification set-up) ended with exit code 2 and the one-line error
    that names the config, what is missing and ``make setup-full``."""
    assert proc.returncode == 2, (proc.stdout + proc.stderr)[-4000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-4000:]
    assert lines[0].startswith('mmtst: error: ')
    assert config in lines[0] and '`make setup-full`' in lines[0]
    assert 'mmdet' in lines[0] and 'mmcv with ops' in lines[0]
