#!/usr/bin/env bash
# Build (or reuse) mmtst's Python environment in .venv, in one of two
# profiles. Idempotent: a second run on an unchanged checkout only checks the
# imports and returns in seconds.
#
# Usage: bash tools/setup_env.sh [classification|full]     (default: full)
#
#   classification  torch, mmengine, mmpretrain and mmcv-lite (mmcv's Python
#                   code without its compiled ops; a pure wheel from PyPI).
#                   A few minutes. Enough for every classification config
#                   and the quick start (`make quickstart`).
#   full            adds mmcv 2.1.0 built with its ops, mmdet and mmseg:
#                   every config and the test suite (`make test`). Run on a
#                   classification venv it upgrades it in place: mmcv-lite is
#                   uninstalled first (both packages write the same mmcv/
#                   folder), then the cached mmcv wheel goes in.
# A full venv serves classification too: asking for classification there
# keeps it full (never a downgrade).
#
# The slow step of the full profile is mmcv 2.1.0 with its compiled ops
# (~20 min on 2 cores): PyPI has only its sdist. The built wheel is cached
# under a folder named by the torch version it was built against (pip's own
# cache keys on the mmcv version only and would silently reuse a wheel built
# for another torch).
#
# Environment variables:
#   MMTST_PROFILE  the profile when no argument is given (the argument wins).
#   MMTST_VENV     where to put the venv. Defaults to <repo>/.venv.
#   MMTST_CACHE    wheel cache. Defaults to ~/.cache/mmtst.
#   PYTHON         interpreter for the venv. Defaults to python3.11 (or python3).
#   MMTST_SKIP_APT set to 1 to skip installing Debian's dataset-fashion-mnist.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMTST_VENV:-$ROOT/.venv}
# absolute: the mmcv build runs pip from a temporary folder, where the
# Makefile's relative MMTST_VENV=.venv would not be found
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
CACHE=${MMTST_CACHE:-$HOME/.cache/mmtst}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
REQ=$ROOT/requirements
CONSTRAINTS=$REQ/constraints.txt
# two lines, profile=<name> and fingerprint=<sha256>: a classification stamp
# must not pass for a full venv
STAMP=$VENV/.mmtst-setup-stamp

log() { printf '[setup_env] %s\n' "$*"; }

fingerprint() {
    cat "$REQ"/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

# the value of one key of the stamp (empty when absent or an old format)
stamp_field() {
    [ -f "$STAMP" ] && sed -n "s/^$1=//p" "$STAMP" || true
}

write_stamp() {
    printf 'profile=%s\nfingerprint=%s\n' "$1" "$(fingerprint)" > "$STAMP"
}

# Whether the installed stack of profile $1 imports (quietly; the caller
# repeats the imports loudly on failure).
stack_imports() {
    if [ "$1" = full ]; then
        "$VENV/bin/python" - <<'PY' 2>/dev/null
import mmcv, mmcv.ops, mmdet, mmseg, mmpretrain, mmengine, mmtst
from mmcv.ops import nms  # noqa: F401  (fails when mmcv was built without ops)
assert mmcv.__version__ == '2.1.0', mmcv.__version__
PY
    else
        "$VENV/bin/python" - <<'PY' 2>/dev/null
import mmcv, mmengine, mmpretrain, mmtst, mmtst.models, mmtst.datasets
from mmpretrain.models import ImageClassifier  # noqa: F401
assert mmcv.__version__ == '2.1.0', mmcv.__version__
PY
    fi
}

# The mmcv distributions installed in the venv: "mmcv", "mmcv-lite", both
# (a broken mix) or none.
mmcv_dists() {
    "$VENV/bin/python" - <<'PY' 2>/dev/null || true
from importlib import metadata
for name in ('mmcv', 'mmcv-lite'):
    try:
        metadata.version(name)
        print(name)
    except metadata.PackageNotFoundError:
        pass
PY
}

has_dist() { mmcv_dists | grep -qx "$1"; }

install_fashion_mnist() {
    [ "${MMTST_SKIP_APT:-0}" = 1 ] && return 0
    [ -d /usr/share/datasets/fashion-mnist ] && return 0
    command -v apt-get >/dev/null || {
        log "no apt-get: the quick start will use mmpretrain's Fashion-MNIST download"; return 0; }
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"
        else log "not root and no sudo: install dataset-fashion-mnist yourself"; return 0; fi
    fi
    log "installing Debian's dataset-fashion-mnist"
    $sudo apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || {
        $sudo apt-get update -q >/dev/null 2>&1 || true
        $sudo apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ||
            log "apt could not install dataset-fashion-mnist; the quick start will try mmpretrain's download"; }
}

# mmcv 2.1.0 hard-codes -std=c++17; torch headers from 2.10 on demand C++20.
build_mmcv_wheel() {
    local wheel_dir=$1 src
    src=$(mktemp -d)
    log "building mmcv 2.1.0 with ops into $wheel_dir (about 20 minutes on 2 cores)"
    (cd "$src" && "$VENV/bin/pip" download -q --no-deps --no-binary :all: \
        --no-build-isolation mmcv==2.1.0 -d .)
    tar -xzf "$src"/mmcv-2.1.0.tar.gz -C "$src"
    local torch_inc
    torch_inc=$("$VENV/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
    if grep -qs "C++20 or later" "$torch_inc/ATen/ATen.h"; then
        log "torch needs C++20: patching mmcv's setup.py"
        sed -i 's/-std=c++17/-std=c++20/g' "$src/mmcv-2.1.0/setup.py"
    fi
    mkdir -p "$wheel_dir"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$VENV/bin/pip" wheel -q --no-deps \
        --no-build-isolation --no-cache-dir -w "$wheel_dir" "$src/mmcv-2.1.0"
    rm -rf "$src"
}

# mmcv with ops from the wheel cache (built there first when missing), after
# removing mmcv-lite: pip would otherwise keep both records over one mmcv/
# folder, and uninstalling either later breaks the other.
install_full_mmcv() {
    local pip=("$@")
    if has_dist mmcv-lite; then
        log "replacing mmcv-lite by mmcv with ops (upgrading to the full profile)"
        "$VENV/bin/pip" uninstall -q -y mmcv-lite
        # a full mmcv installed alongside lost its files with mmcv-lite's
        if has_dist mmcv; then "$VENV/bin/pip" uninstall -q -y mmcv; fi
    fi
    "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null && return 0
    local torch_ver py_tag wheel_dir
    torch_ver=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')
    py_tag=$("$VENV/bin/python" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
    wheel_dir=$CACHE/mmcv-2.1.0/torch-$torch_ver-$py_tag
    ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1 || build_mmcv_wheel "$wheel_dir"
    log "installing mmcv from $wheel_dir"
    "${pip[@]}" "$wheel_dir"/mmcv-2.1.0-*.whl
}

# The profile this run installs: a venv that has the full mmcv keeps the
# full profile whatever was asked (the quick start must not strip what
# `make test` built).
effective_profile() {
    if [ "$1" = classification ] && [ -x "$VENV/bin/python" ] && has_dist mmcv; then
        echo full
    else
        echo "$1"
    fi
}

# Whether the stamp says the venv is current for profile $1.
up_to_date() {
    local have
    have=$(stamp_field profile)
    [ -x "$VENV/bin/python" ] && [ "$(stamp_field fingerprint)" = "$(fingerprint)" ] || return 1
    [ "$have" = "$1" ] || { [ "$1" = classification ] && [ "$have" = full ]; } || return 1
    stack_imports "$have"
}

main() {
    local profile=${1:-${MMTST_PROFILE:-full}}
    case $profile in
        classification|full) ;;
        *) log "unknown profile '$profile': use classification or full"; exit 2 ;;
    esac
    if up_to_date "$profile"; then
        install_fashion_mnist
        log "environment up to date ($(stamp_field profile) profile): $VENV"
        return 0
    fi
    [ -x "$VENV/bin/python" ] || { log "creating $VENV with $PY"; "$PY" -m venv "$VENV"; }
    profile=$(effective_profile "$profile")
    log "setting up the $profile profile in $VENV"
    local pip=("$VENV/bin/pip" install -q -c "$CONSTRAINTS")
    "${pip[@]}" --upgrade pip setuptools wheel
    log "installing torch, torchvision, numpy"
    "${pip[@]}" torch torchvision numpy

    local stack
    if [ "$profile" = full ]; then
        install_full_mmcv "${pip[@]}"
        stack=$REQ/mminstall.txt
    else
        stack=$REQ/classification.txt
    fi
    log "installing the OpenMMLab stack ($(basename "$stack")) and mmtst"
    "${pip[@]}" -r "$stack" -r "$REQ/runtime.txt" -r "$REQ/tests.txt"
    "${pip[@]}" --no-deps --no-build-isolation -e "$ROOT"
    # where mmengine's `mmtst::` bases and `mim search` look for the package
    "$VENV/bin/python" "$ROOT/tools/link_editable_install.py" >/dev/null
    stack_imports "$profile" || {
        log "the stack does not import; see the errors above"
        "$VENV/bin/python" -c 'import mmcv, mmpretrain, mmtst.models'
        [ "$profile" = full ] && "$VENV/bin/python" -c 'import mmcv.ops, mmdet, mmseg'
        exit 1; }
    write_stamp "$profile"
    install_fashion_mnist
    log "environment ready ($profile profile, ${SECONDS}s): $VENV"
}

# sourced (by the tests) it only defines the functions
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
