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
	$(PY) -m pytest -q -n 2 --durations=15 tests --ignore=tests/test_gan_replicas.py \
		--ignore=tests/test_trainer_contract_replicas.py
	$(PY) -m pytest -q --durations=15 tests/test_gan_replicas.py tests/test_trainer_contract_replicas.py

# The demo: configs/demo_fashion_mnist.yaml, the recipe search's choice for FID per
# CPU-minute (benchmarks/recipe.py, DEMO_CELL), DEMO_STEPS steps in under 10 minutes on 2
# CPU cores. Re-running resumes the run in DEMO_DIR: once it is complete, it only prints
# the summary. It ends by exporting the generator for TF Serving as DEMO_EXPORT/<steps>/
# (replaced on re-runs, so the command stays idempotent).
DEMO_CONFIG ?= configs/demo_fashion_mnist.yaml
DEMO_DIR ?= runs/demo
DEMO_EXPORT ?= saved_models/dcgan_fashion_mnist
DEMO_STEPS ?= 10000

demo: install data
	@start=$$(date +%s); \
	$(PY) -m pipelines.cli train $(DEMO_CONFIG) --model-dir $(DEMO_DIR) \
		--set train.steps=$(DEMO_STEPS) \
	&& $(PY) -m pipelines.cli export $(DEMO_DIR) --export-dir $(DEMO_EXPORT) \
		--version $(DEMO_STEPS) --overwrite \
	&& echo "make demo: done in $$(( $$(date +%s) - start )) s. Samples: $(DEMO_DIR)/samples/latest.png; TensorBoard: $(VENV)/bin/tensorboard --logdir $(DEMO_DIR)/logs; SavedModel: $(DEMO_EXPORT)/$(DEMO_STEPS)"

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
