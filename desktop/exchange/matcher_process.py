"""An import's duplicate check against the book, in a second process.

A long import of accounts spends about half its time asking the book for each row's
probable duplicate (desktop.exchange.dupes.AccountMatcher: the keys' records, their
brands, the comparisons) and the other half reading, validating and writing the rows and
comparing them with the file's earlier rows. The book's duplicate index does not change
during an import (its new records are keyed after it), so the first half can run in a
process of its own on the second core: the importer sends a chunk's probes and goes on
with the next chunk while this process finds their candidates.

A plain child process with pickled frames on its stdin and stdout (as the index builder,
desktop.store.indexer: not multiprocessing); it exits when its stdin closes, so a killed
import leaves nothing running. Any failure of the process is the importer's cue to check
the chunk in its own process instead: the result never depends on which one did it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.dedupe.match import Probe

_LENGTH = struct.Struct("<Q")
Candidate = dict[str, Any] | None  # AccountMatcher.find's answer


def _write(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


def _read_frame(src: IO[bytes]) -> bytes:
    head = src.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError("the other process closed the pipe")
    size = _LENGTH.unpack(head)[0]
    data = src.read(size)
    if len(data) < size:
        raise EOFError("the other process closed the pipe")
    return data


def _read(src: IO[bytes]) -> Any:
    return pickle.loads(_read_frame(src))  # our own child's pipe, nobody else's


def _frames(src: IO[bytes]) -> queue.Queue[bytes | None]:
    """The frames of `src` as they come, read by a thread (None: the pipe closed), so
    the importer's next chunk leaves its pipe while this process checks the last one:
    a chunk's frame is larger than a pipe's buffer."""
    frames: queue.Queue[bytes | None] = queue.Queue()

    def pump() -> None:
        try:
            while True:
                frames.put(_read_frame(src))
        except (EOFError, OSError):
            frames.put(None)

    threading.Thread(target=pump, name="import-matcher-pipe", daemon=True).start()
    return frames


def serve(profile: str, threshold: float) -> int:
    """The process: open the store, then answer each chunk of (probe, keys) with the
    chunk's candidates, in order, until stdin closes."""
    # By descriptor, not sys.stdin / sys.stdout: a frozen windowed build may have no
    # sys.stdout while its pipes are there. The frames get the pipe to themselves:
    # anything printed goes to stderr (or nowhere).
    src = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    sink = os.open(os.devnull, os.O_WRONLY) if sys.stderr is None else sys.stderr.fileno()
    os.dup2(sink, 1)
    first = _read(src)  # the store's key when it is encrypted, else None
    if first is not None:
        from desktop.store.cipher import remember_key

        remember_key(Path(profile), first)
    from desktop.exchange.dupes import AccountMatcher
    from desktop.store.gcpause import collect_young, collector_paused
    from desktop.store.store import Store

    store = Store.open(Path(profile))
    matcher = AccountMatcher(store, threshold)
    frames = _frames(src)
    try:
        with collector_paused():  # probes and the caches make no cycles (importer)
            while True:
                frame = frames.get()
                if frame is None:
                    return 0
                probes: list[tuple[Probe, set[str]]] = pickle.loads(frame)
                del frame
                matcher.prefetch(probes)
                try:
                    found = [matcher.find(me, keys) for me, keys in probes]
                finally:
                    matcher.reset()
                try:
                    _write(out, found)
                except OSError:  # the importer is gone (closed, cancelled or killed)
                    return 0
                del probes
                collect_young()
    finally:
        matcher.close()
        store.close()
        with contextlib.suppress(OSError):
            out.close()


def command(profile: Path, threshold: float) -> list[str]:
    """This interpreter on this module, or in a frozen build the app itself (desktop.cli
    hands `--import-matcher` to `serve`)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--import-matcher", str(profile), repr(threshold)]
    return [sys.executable, "-m", "desktop.exchange.matcher_process", str(profile),
            repr(threshold)]


class MatcherProcess:
    """    m = MatcherProcess(profile, threshold)
        m.submit(probes)        # returns at once
        m.results()             # that chunk's candidates, or None: check it here
        m.close()

    After any failure (the process died, a broken pipe) it answers None for good."""

    def __init__(self, profile: Path, threshold: float) -> None:
        from desktop.store.cipher import cached_key

        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        self._sent = 0  # chunks submitted and not yet answered
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            self._proc = subprocess.Popen(
                command(profile, threshold), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=env, cwd=None if getattr(sys, "frozen", False) else str(root))
        except OSError:
            return  # not started: every chunk is checked by the importer itself
        try:
            assert self._proc.stdin is not None
            _write(self._proc.stdin, cached_key(profile))  # never on a command line
        except OSError:
            self.close()

    def submit(self, probes: list[tuple[Probe, set[str]]]) -> bool:
        """Send a chunk; False if the process cannot take it (check it here then)."""
        if self._proc is None or self._proc.stdin is None:
            return False
        try:
            _write(self._proc.stdin, probes)
        except OSError:
            self.close()
            return False
        self._sent += 1
        return True

    def results(self) -> list[Candidate] | None:
        """The candidates of the oldest chunk submitted, in its order; None if the
        process failed (then every chunk still unanswered is to be checked here)."""
        if self._proc is None or self._proc.stdout is None or not self._sent:
            return None
        try:
            found: list[Candidate] = _read(self._proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.close()
            return None
        self._sent -= 1
        return found

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], float(sys.argv[2])))
