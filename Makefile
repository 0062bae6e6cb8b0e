# The two commands: `make demo` and `make test`. Both set up everything they need
# (Debian's dataset-fashion-mnist package and a .venv) and are safe to re-run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test demo install data clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

data: $(FMNIST)

$(FMNIST):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist

test: install data
	# MirroredStrategy tests in their own process: several strategies in one process
	# clash on collective keys, and xdist workers mix test files.
	$(PY) -m pytest -q -n 2 --durations=15 tests --ignore=tests/test_gan.py
	$(PY) -m pytest -q --durations=15 tests/test_gan.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
