"""Type stubs of goodfit's extension module (the Rust library's functions)."""

from typing import Callable, List, Optional, Tuple

__version__: str

def setting_names() -> List[str]:
    """Every setting name of ``goodfit train`` (snake_case)."""

def train(
    settings: str,
    auto: Optional[str] = None,
    resume: Optional[str] = None,
    overwrite: bool = False,
    progress: Optional[Callable[[str, str], None]] = None,
    cv_folds: Optional[int] = None,
) -> str:
    """Trains (cross-validates with ``cv_folds``, or searches), diagnoses and reports;
    returns the run folder."""

def load_run(path: str) -> str:
    """A finished run folder's records as JSON text."""

def predict(
    run: str, inputs: List[str], base: str, batch_size: int = 64, argmax: bool = False
) -> Tuple[List[str], List[List[float]], List[int]]:
    """Labels, probabilities and predicted class indices of ``inputs``."""

def methods() -> List[str]:
    """The resampling methods' names."""

def resample(
    method: str,
    x: bytes,
    n_rows: int,
    dim: int,
    y: List[int],
    n_classes: int,
    params: str,
    class_names: List[str],
) -> Tuple[bytes, List[int], List[int]]:
    """Resampled float64 rows, their classes, and each row's input row (-1: synthetic)."""

def report(
    y_true: List[int],
    y_pred: List[int],
    labels: List[str],
    proba: Optional[List[List[float]]] = None,
) -> str:
    """Every metric as JSON text."""
