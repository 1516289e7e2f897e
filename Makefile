# The README's commands. Each sets up (or reuses) the venv first, in the
# profile it needs (tools/setup_env.sh): the quick start only distils a
# classifier, so it needs no compiled mmcv; the tests need everything.
VENV ?= .venv
PY := $(VENV)/bin/python
SETUP := MMTST_VENV=$(VENV) bash tools/setup_env.sh

.PHONY: setup setup-classification setup-full quickstart test

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

test: setup-full
	$(PY) -m pytest tests -q -p no:cacheprovider $(ARGS)
