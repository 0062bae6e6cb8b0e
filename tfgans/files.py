"""Run files: atomic writes (a reader, or a crash, never sees a half-written file) with the
mode the umask gives, write errors as one line that names the file, and the point where
tests inject faults.

Fault injection. Every write of a run file passes through `fault_point(name, path)`
first (`"write"` for `atomic_write`, `"checkpoint"` before a checkpoint is saved,
`"sample_grid"` and `"evaluation"` before those callbacks do their work, `"export"`
before an export is renamed into place). It does nothing; tests replace it (monkeypatch
`tfgans.files.fault_point`) to simulate a full or read-only disk (raise
`OSError(errno.ENOSPC)` / `OSError(errno.EROFS)`) or a kill at that exact point (raise an
exception that nothing catches).
"""

import errno
import os
import sys
import tempfile


def fault_point(name, path=None):
    """Called before each write of a run file; a no-op that tests replace to inject faults
    (see the module docstring)."""


def warn(message):
    """Prints one warning line, `tfgans: warning: <message>`, on stderr."""
    sys.stdout.flush()
    print(f"tfgans: warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)


_HINTS = {
    errno.ENOSPC: "the disk is full: free some space",
    errno.EDQUOT: "the disk quota is exceeded: free some space",
    errno.EROFS: "the file system is read-only: use a writable folder",
    errno.EACCES: "permission denied: use a folder you may write to",
    errno.EPERM: "permission denied: use a folder you may write to",
}


class WriteError(OSError):
    """A run file could not be written; the message names it and says what to do."""


def write_error(path, error, what="write"):
    """A `WriteError` for an `OSError` raised while writing `path`: one line naming the
    file, the system's reason and the fix, with the same errno."""
    code = getattr(error, "errno", None)
    reason = getattr(error, "strerror", None) or " ".join(str(error).split())
    hint = _HINTS.get(code, "check the folder and the disk")
    return WriteError(code, f"Cannot {what} {path} ({reason}): {hint}, then run the same "
                            "command again.")


def _umask():
    """The process' umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(folder=False):
    """The mode a new file (0666) or folder (0777) gets under the current umask."""
    return (0o777 if folder else 0o666) & ~_umask()


def atomic_write(path, data):
    """Writes `data` (bytes, or str as UTF-8) to `path` atomically and returns `path`.

    The data goes to a temporary file in the same folder (created if missing), which is
    then renamed over `path`; if anything fails, the temporary file is removed and an
    existing `path` is left as it was. The file gets the mode of the file it replaces, or
    0666 less the umask for a new one (as `open` would give), so other users can read it
    when the umask lets them.

    Raises:
        WriteError: the folder or the file cannot be written (full or read-only disk, no
            permission), naming the file.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = None
    try:
        fault_point("write", path)
        os.makedirs(folder, exist_ok=True)
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = default_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=folder)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        if isinstance(e, WriteError):
            raise
        raise write_error(path, e) from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(path):
    if path is not None and os.path.exists(path):
        try:
            os.unlink(path)
        except OSError:
            pass


def check_writable(folder, what="folder"):
    """Checks, before any long work, that files can be created in `folder` (created if
    missing), by writing and removing an empty hidden file through the write path.

    Raises:
        WriteError: naming the folder.
    """
    probe = os.path.join(folder, f".tfgans-write-check-{os.getpid()}")
    try:
        fault_point("write", probe)
        os.makedirs(folder, exist_ok=True)
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as e:
        _remove(probe)
        raise write_error(folder, e, f"write into the {what}") from None
