# goodfit's two entry points: `make demo` runs the main job, `make test` runs every test.
CARGO ?= cargo
GOODFIT := target/release/goodfit
DATA := examples/fine_foods

.PHONY: demo test build

build:
	$(CARGO) build --release --locked

# Inspect the shipped fine_foods data, then score a baseline's predictions on its test split.
demo: build
	$(GOODFIT) inspect --data $(DATA)/train.jsonl --test $(DATA)/test.jsonl
	$(GOODFIT) evaluate --predictions $(DATA)/predictions-tfidf-logreg.csv

test:
	$(CARGO) test --workspace --locked
