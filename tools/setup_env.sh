#!/usr/bin/env bash
# Build (or reuse) mmtst's Python environment in .venv. Idempotent: a second
# run on an unchanged checkout only checks the imports and returns in seconds.
#
# The slow step is mmcv 2.1.0 with its compiled ops (~20 min on 2 cores): PyPI
# has only its sdist. The built wheel is cached under a folder named by the
# torch version it was built against (pip's own cache keys on the mmcv version
# only and would silently reuse a wheel built for another torch).
#
# Environment variables:
#   MMTST_VENV     where to put the venv. Defaults to <repo>/.venv.
#   MMTST_CACHE    wheel cache. Defaults to ~/.cache/mmtst.
#   PYTHON         interpreter for the venv. Defaults to python3.11 (or python3).
#   MMTST_SKIP_APT set to 1 to skip installing Debian's dataset-fashion-mnist.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMTST_VENV:-$ROOT/.venv}
CACHE=${MMTST_CACHE:-$HOME/.cache/mmtst}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
REQ=$ROOT/requirements
CONSTRAINTS=$REQ/constraints.txt
STAMP=$VENV/.mmtst-setup-stamp

log() { printf '[setup_env] %s\n' "$*"; }

fingerprint() {
    cat "$REQ"/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

stack_imports() {
    "$VENV/bin/python" - <<'PY' 2>/dev/null
import mmcv, mmcv.ops, mmdet, mmseg, mmpretrain, mmengine, mmtst
from mmcv.ops import nms  # noqa: F401  (fails when mmcv was built without ops)
assert mmcv.__version__ == '2.1.0', mmcv.__version__
PY
}

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

main() {
    if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(fingerprint)" ] && stack_imports; then
        install_fashion_mnist
        log "environment up to date: $VENV"
        return 0
    fi
    [ -x "$VENV/bin/python" ] || { log "creating $VENV with $PY"; "$PY" -m venv "$VENV"; }
    local pip=("$VENV/bin/pip" install -q -c "$CONSTRAINTS")
    "${pip[@]}" --upgrade pip setuptools wheel
    log "installing torch, torchvision, numpy"
    "${pip[@]}" torch torchvision numpy

    if ! "$VENV/bin/python" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
        local torch_ver wheel_dir
        torch_ver=$("$VENV/bin/python" -c 'import torch; print(torch.__version__)')
        wheel_dir=$CACHE/mmcv-2.1.0/torch-$torch_ver-$("$VENV/bin/python" -c 'import sys; print("py%d%d" % sys.version_info[:2])')
        ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1 || build_mmcv_wheel "$wheel_dir"
        log "installing mmcv from $wheel_dir"
        "${pip[@]}" "$wheel_dir"/mmcv-2.1.0-*.whl
    fi

    log "installing the OpenMMLab stack and mmtst"
    "${pip[@]}" -r "$REQ/mminstall.txt" -r "$REQ/runtime.txt" -r "$REQ/tests.txt"
    "${pip[@]}" --no-deps --no-build-isolation -e "$ROOT"
    stack_imports || { log "the stack does not import; see the errors above"; "$VENV/bin/python" -c 'import mmcv.ops, mmdet, mmseg, mmpretrain, mmtst'; exit 1; }
    fingerprint > "$STAMP"
    install_fashion_mnist
    log "environment ready: $VENV"
}

main "$@"
