#!/usr/bin/env bash
# The Python package's tests: builds goodfit's abi3 wheel with maturin in a fresh virtual
# environment (target/python-test), installs it with its test dependencies, and runs
# pytest over crates/goodfit-py/tests. `make test` runs it after the Rust tests; the wheel
# build reuses cargo's release build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
    echo "test-python: python3 is needed for the Python package's tests" >&2
    exit 1
fi
venv=target/python-test
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest numpy pandas pyarrow scikit-learn imbalanced-learn
rm -rf target/wheels
"$venv/bin/maturin" build --quiet --release --locked -o target/wheels
"$venv/bin/python" -m pip install --quiet target/wheels/goodfit-*.whl
# Run from the tests' folder so that `import goodfit` is the installed wheel's.
cd crates/goodfit-py/tests
exec ../../../"$venv"/bin/python -m pytest -q -p no:cacheprovider "$@"
