"""tools/setup_env.sh's functions, sourced without running its main (the
whole set-up is exercised by test_lite_venv.py and by `make test` itself)."""
import os
import os.path as osp
import subprocess

from conftest import REPO

SETUP = osp.join(REPO, 'tools', 'setup_env.sh')


def source_and_run(cwd: str, venv: str, commands: str):
    """Run ``commands`` in bash after sourcing setup_env.sh from ``cwd``."""
    env = dict(os.environ, MMTST_VENV=venv, MMTST_CACHE=osp.join(cwd, 'c'))
    return subprocess.run(['bash', '-c', f'source {SETUP}; {commands}'],
                          cwd=cwd,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=60)


def test_relative_venv_is_made_absolute(tmp_path):
    out = source_and_run(str(tmp_path), '.venv', 'echo "$VENV"')
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == osp.join(str(tmp_path), '.venv')


def test_mmcv_build_finds_a_relative_venvs_pip(tmp_path):
    """The Makefile passes MMTST_VENV=.venv; building the mmcv wheel runs
    pip from a temporary folder, where that relative path used to name
    nothing (`.venv/bin/pip: No such file or directory`, exit 127). A
    stand-in pip records its call and fails, which ends the build."""
    calls = tmp_path / 'pip_calls'
    pip = tmp_path / '.venv' / 'bin' / 'pip'
    pip.parent.mkdir(parents=True)
    pip.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 3\n')
    pip.chmod(0o755)
    out = source_and_run(
        str(tmp_path), '.venv', f'build_mmcv_wheel {tmp_path}/wheels')
    assert out.returncode == 3, out.stderr
    assert calls.read_text().startswith('download'), calls.read_text()
