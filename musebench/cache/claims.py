"""Claims: concurrent runs on one cache divide the generation work, one claim per image key.

Before a run generates an image it claims the key: an exclusive `fcntl.flock` on
claims/<key>.lock, taken without blocking. A key another live process holds is skipped and
revisited at the end; a key the run holds is generated, written (store.py's order: file, then
index row) and released. Why a kernel lock and not a claims table with pid + host + heartbeat:
- the kernel drops an flock when its holder dies, `kill -9` included, on every host that shares
  the file system lock (Linux emulates flock over NFS with POSIX locks), so a dead claimant's
  work is taken over at once; a table needs expiry times (too short: two live runs generate one
  image twice; too long: a killed run's images wait) and a pid check that only holds on one host;
- nothing to clean up for correctness: a lock file left by a killed run is just an unlocked file,
  claimed normally by the next run (`cache prune` removes the leftovers).

Release unlinks the file while still holding the lock, so a waiter may end up holding a lock on
an unlinked file; `claim` therefore checks after locking that the path still names the inode it
locked, and retries if not (the usual lock-file-removal protocol). A claim alone does not mean
the image is missing: the holder of a released claim has already indexed it, so the caller
re-checks the index after claiming (ImageCache.lookup) and releases keys it finds there.

Claims only share work; the cache stays correct without them (two runs writing one key write the
same bytes). On a file system without flock (ENOLCK, EOPNOTSUPP) every key counts as claimed and
each run generates all of its misses, as before claims existed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path

CLAIMS_DIR = "claims"
_UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


@dataclass
class Claim:
    key: str
    path: Path
    fd: int | None  # None: released, or locks unsupported here: nothing to release


def claims_dir(root: Path) -> Path:
    return Path(root) / CLAIMS_DIR


def claim(root: Path, key: str, wait: bool = False) -> Claim | None:
    """Lock the key for this process; None if another live process holds it (and wait is False).

    wait=True blocks until the holder releases it or dies; call it only while holding no other
    claim, so two waiting runs can never wait on each other.
    """
    path = claims_dir(root) / f"{key}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError as exc:
            os.close(fd)
            if exc.errno in _UNSUPPORTED:
                return Claim(key, path, None)
            raise
        if _still_named(path, fd):
            _write_owner(fd)
            return Claim(key, path, fd)
        os.close(fd)  # we locked a file its holder had already released and unlinked: start over


def release(claim_: Claim) -> None:
    """Unlink, then unlock (closing the descriptor drops the flock). Call after the index row is in.
    Releasing twice is a no-op."""
    fd, claim_.fd = claim_.fd, None
    if fd is None:
        return
    try:
        claim_.path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def release_all(claims: list[Claim]) -> None:
    for item in claims:
        release(item)


def remove_stale(root: Path) -> int:
    """Delete lock files nobody holds (left by killed runs); returns how many. Used by `cache prune`."""
    removed = 0
    directory = claims_dir(root)
    if not directory.is_dir():
        return 0
    for path in sorted(directory.glob("*.lock")):
        held = claim(root, path.name[: -len(".lock")])
        if held is not None and held.fd is not None:
            release(held)
            removed += 1
    return removed


def _still_named(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _write_owner(fd: int) -> None:
    """pid and host in the file: for a person looking at claims/, never read by the protocol."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
