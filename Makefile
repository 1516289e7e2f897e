# The two commands of the README. Both build (or reuse) .venv first.
PY := .venv/bin/python

.PHONY: setup quickstart test

setup:
	bash tools/setup_env.sh

quickstart: setup
	$(PY) tools/quickstart.py $(ARGS)

test: setup
	$(PY) -m pytest tests -q -p no:cacheprovider $(ARGS)
