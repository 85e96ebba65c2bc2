"""Atomic writes: modes follow the umask, and a SIGKILLed writer's temporary file is cleaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emergence.atomic import atomic_path, remove_stale_temporaries, write_text

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o022, 0o644), (0o077, 0o600)])
def test_new_files_respect_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    before = os.umask(umask)
    try:
        write_text(tmp_path / "table.csv", "a\n1\n")
    finally:
        os.umask(before)
    assert (tmp_path / "table.csv").stat().st_mode & 0o777 == mode


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_sigkilled_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    target = tmp_path / "figures" / "time.png"
    code = (
        "import sys, time\n"
        "from emergence.atomic import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(60)\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    tmp = Path(writer.stdout.readline().strip())
    assert tmp.exists() and tmp.parent == target.parent
    # A live writer's temporary file is never touched.
    assert remove_stale_temporaries(target) == [] and tmp.exists()
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert temporaries(target.parent) == [tmp.name]  # what a killed run leaves

    with atomic_path(target) as new:
        new.write_bytes(b"png")
    assert target.read_bytes() == b"png"
    assert temporaries(target.parent) == []


def test_temporaries_of_other_targets_and_hosts_are_kept(tmp_path):
    target = tmp_path / "a.csv"
    # A dead pid: spawn a process and wait for it.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    time.sleep(0.01)
    other_target = tmp_path / f".b.csv.{os.uname().nodename}.{dead.pid}.0000.tmp"
    other_host = tmp_path / f".a.csv.elsewhere.{dead.pid}.0000.tmp"
    for p in (other_target, other_host):
        p.write_text("")
    write_text(target, "x")
    assert sorted(temporaries(tmp_path)) == sorted([other_target.name, other_host.name])
