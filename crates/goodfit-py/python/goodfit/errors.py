"""goodfit's exceptions.

Bad input (a missing column, a label that is not there, an unknown setting, a value out of
range) raises :class:`InputError`, which is also a :class:`ValueError`; its message names
the file, line and field (or the DataFrame, row and column) as the command line does.
"""

from __future__ import annotations

__all__ = [
    "GoodfitError",
    "InputError",
    "GoodfitIOError",
    "TrainingDiverged",
    "Interrupted",
]


class GoodfitError(Exception):
    """Any error goodfit raises (but :class:`Interrupted`)."""


class InputError(GoodfitError, ValueError):
    """Bad input: the message names the file, line and field, or the flag."""


class GoodfitIOError(GoodfitError, OSError):
    """A file could not be read or written (the message names it)."""


class TrainingDiverged(GoodfitError):
    """The loss or the gradient stopped being a number: lower the learning rate."""


class Interrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (or a notebook's interrupt) after the current batch.

    ``run_dir`` keeps the checkpoint of the last finished epoch (``epochs_done`` of them):
    ``goodfit.train(resume=err.run_dir)`` continues from there. With ``epochs_done == 0``
    nothing was kept and the run must start again.
    """

    def __init__(self, run_dir: str, epochs_done: int) -> None:
        self.run_dir = run_dir
        self.epochs_done = epochs_done
        if epochs_done > 0 and run_dir:
            text = (
                f"interrupted after epoch {epochs_done}; continue with "
                f"goodfit.train(resume={run_dir!r})"
            )
        else:
            text = "interrupted before the first epoch finished: nothing to resume"
        super().__init__(text)
