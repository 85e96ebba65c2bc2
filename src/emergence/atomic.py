"""Atomic file writes: a killed job never leaves a half-written artifact behind.

The temporary file's name carries the writer's host and process id. A process killed by SIGKILL
(out of memory, a cancelled cluster job) cannot remove its temporary file, so the next write of
the same target removes those whose writer no longer runs on this host; a live writer's file,
or another host's, is left alone (two jobs may write one cache entry at the same time).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary file lives in the same directory so that the final ``os.replace`` is a rename
    on one filesystem, which POSIX guarantees to be atomic. It is created with mode 0666 minus
    the umask, like any new file, so a group-readable umask gives group-readable results.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = _create_temporary(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _host() -> str:
    # Dots separate the name's fields; a host name may contain them.
    return socket.gethostname().replace(".", "_") or "host"


def _create_temporary(target: Path) -> Path:
    """An empty new file ``.{name}.{host}.{pid}.{random}.tmp`` beside ``target``."""
    while True:
        tmp = target.with_name(f".{target.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            # O_EXCL: never another writer's file. Mode 0o666: the kernel applies the umask
            # (tempfile.mkstemp would force 0600 whatever the umask).
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of ``target`` left by writers on this host that have died."""
    target = Path(target)
    removed = []
    if not target.parent.is_dir():
        return removed
    host = _host()
    for tmp in target.parent.glob(f".{_glob_escape(target.name)}.*.tmp"):
        fields = tmp.name[len(target.name) + 2 : -len(".tmp")].split(".")
        if len(fields) != 3 or fields[0] != host or not fields[1].isdigit():
            continue
        if not _alive(int(fields[1])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
