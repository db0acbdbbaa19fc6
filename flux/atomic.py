"""Replacing a file atomically: written beside the target under a temporary name, then renamed over it.

The target keeps what a user set up: an existing file's permission bits, and a symbolic
link, which is followed (the file it points at is replaced, the link stays). A new file
gets the usual mode under the process's umask, not ``mkstemp``'s ``0600``. A temporary
carries its writer's process id, so one left behind by a killed writer is removed by the
next write to the same target.
"""

import os
import secrets
import stat
from pathlib import Path

__all__ = ["replace_atomically", "temporaries"]

NEW_FILE_MODE = 0o666   # before the umask, as open() creates files


def temporaries(target):
    """``(path, pid)`` for each temporary of ``target`` in its directory."""
    target = Path(target)
    prefix = f".{target.name}."
    found = []
    for entry in target.parent.iterdir():
        name = entry.name
        if name.startswith(prefix) and name.endswith(".tmp"):
            pid = name[len(prefix):-4].split(".")[0]
            if pid.isdigit():
                found.append((entry, int(pid)))
    return found


def alive(pid):
    """Whether a process with id ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(target):
    """Delete the temporaries of ``target`` whose writers no longer run."""
    for path, pid in temporaries(target):
        if pid != os.getpid() and not alive(pid):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def replace_atomically(path, write):
    """Call ``write(stream)`` on a fresh temporary file and rename it over ``path``.

    If ``write`` raises, or the process is interrupted, the old file is left as it was
    and the temporary is removed.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> replace_atomically(path, lambda stream: stream.write(b"hello"))
    >>> path.read_bytes()
    b'hello'
    """
    target = Path(os.path.realpath(path))
    remove_abandoned(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temporary = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
