# The README's commands. Each sets up (or reuses) the venv first, in the
# profile it needs (tools/setup_env.sh): the quick start only distils a
# classifier, so it needs no compiled mmcv; the tests need everything.
VENV ?= .venv
PY := $(VENV)/bin/python
SETUP := MMTST_VENV=$(VENV) bash tools/setup_env.sh

.PHONY: setup setup-classification setup-full quickstart test lint format

# torch, mmengine, mmpretrain, mmcv-lite: minutes
setup-classification:
	$(SETUP) classification

# adds mmcv with ops (built once, cached), mmdet, mmseg; upgrades a
# classification venv in place
setup-full:
	$(SETUP) full

setup: setup-full

quickstart: setup-classification
	$(PY) tools/quickstart.py $(ARGS)

# the tests check the lint too, so CI (.ci/run = make test) does
test: setup-full lint
	$(PY) -m pytest tests -q -rs -p no:cacheprovider $(ARGS)

# OpenMMLab's lint: flake8, isort and yapf with the settings in setup.cfg
LINT_PATHS := mmtst tools tests configs setup.py
lint: setup-full
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	@diff=$$($(PY) -m yapf --diff --recursive --exclude 'mmtst/.mim/*' \
	    $(LINT_PATHS)); if [ -n "$$diff" ]; then echo "$$diff"; \
	    echo 'yapf would reformat the files above: run make format'; \
	    exit 1; fi

# apply isort and yapf in place
format: setup-full
	$(PY) -m isort $(LINT_PATHS)
	$(PY) -m yapf --in-place --recursive --exclude 'mmtst/.mim/*' $(LINT_PATHS)
