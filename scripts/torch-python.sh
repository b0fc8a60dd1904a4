# Sourced by the PyTorch comparison scripts: sets $python to a Python with torch and
# transformers — $TORCH_PYTHON if set, else a virtual environment made once in .venv-bench
# (pip install torch transformers; a few GB).
python=${TORCH_PYTHON:-}
if [ -z "$python" ]; then
    if [ ! -x .venv-bench/bin/python ]; then
        python3 -m venv .venv-bench
        .venv-bench/bin/pip install --quiet torch transformers
    fi
    python=.venv-bench/bin/python
fi
