"""Data given as a pandas DataFrame (or a pyarrow Table) handed to goodfit as a file.

goodfit's library reads files, and a run folder records the files it was trained on (so
that ``resume`` and ``goodfit train --resume`` find them again). A DataFrame is therefore
checked here, with messages that name the DataFrame's row and column, and written once as
JSON Lines under a content-addressed name in goodfit's data folder:
``$GOODFIT_FRAMES``, else ``$XDG_DATA_HOME/goodfit/frames``, else
``~/.local/share/goodfit/frames``. The same DataFrame always maps to the same file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from .errors import InputError

PathLike = Union[str, "os.PathLike[str]"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def frames_dir() -> Path:
    """The folder DataFrames are written to."""
    if os.environ.get("GOODFIT_FRAMES"):
        return Path(os.environ["GOODFIT_FRAMES"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "goodfit" / "frames"


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return isinstance(value, float) and math.isnan(value)
    except TypeError:
        return False


def unwrap_scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (anything else unchanged)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _plain(value: Any) -> Any:
    """A label as JSON holds it: numpy scalars unwrapped, whole floats as integers."""
    value = unwrap_scalar(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _table(data: Any):
    """`data` as a pandas DataFrame, or None when it is not a table."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if type(data).__module__.startswith("pyarrow") and hasattr(data, "to_pandas"):
        return data.to_pandas()
    return None


def check_frame(frame, what: str, columns: Sequence[str]) -> None:
    """Refuses an empty DataFrame, a missing column, a missing value or a text that is
    not a string, naming the DataFrame's row (position and index) and column."""
    if len(frame) == 0:
        raise InputError(f"{what} DataFrame is empty: it has no rows")
    for column in columns:
        if column not in frame.columns:
            known = ", ".join(str(c) for c in frame.columns)
            raise InputError(
                f"{what} DataFrame: no column '{column}' (the columns are: {known})"
            )
    for column in columns:
        values = frame[column].tolist()
        for position, value in enumerate(values):
            if _missing(value):
                raise InputError(
                    f"{what} DataFrame: row {position} (index {frame.index[position]!r}), "
                    f"column '{column}': the value is missing ({value!r})"
                )


def as_data_path(
    data: Any,
    what: str,
    text_col: str,
    label_col: Optional[str],
) -> Optional[str]:
    """A path goodfit can read for `data`: a path as given, a DataFrame written as JSON
    Lines (its text and label columns), or None."""
    if data is None:
        return None
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    frame = _table(data)
    if frame is None:
        raise InputError(
            f"{what}: expected a file path or a pandas DataFrame, not {type(data).__name__}"
        )
    columns = [text_col] + ([label_col] if label_col is not None else [])
    check_frame(frame, what, columns)
    lines = []
    texts = frame[text_col].tolist()
    labels = frame[label_col].tolist() if label_col is not None else [None] * len(texts)
    for position, (text, label) in enumerate(zip(texts, labels)):
        if not isinstance(text, str):
            raise InputError(
                f"{what} DataFrame: row {position} (index {frame.index[position]!r}), "
                f"column '{text_col}': expected text, not {type(text).__name__} {text!r}"
            )
        # Picture paths are read relative to the data file: make them absolute here.
        if text.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(text):
            text = os.path.abspath(text)
        record = {text_col: text}
        if label_col is not None:
            record[label_col] = _plain(label)
        lines.append(json.dumps(record, ensure_ascii=False))
    body = ("\n".join(lines) + "\n").encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:20]
    folder = frames_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{what}-{digest}.jsonl"
    if not path.is_file():
        # An exclusive temporary file, then a rename: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{what}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(body)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    return str(path)
