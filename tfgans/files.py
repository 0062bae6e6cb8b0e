"""Atomic file writes: a reader (or a crash) never sees a half-written file."""

import os
import tempfile


def atomic_write(path, data):
    """Writes `data` (bytes, or str as UTF-8) to `path` atomically and returns `path`.

    The data goes to a temporary file in the same folder (created if missing), which is
    then renamed over `path`; if anything fails, the temporary file is removed and an
    existing `path` is left as it was.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
