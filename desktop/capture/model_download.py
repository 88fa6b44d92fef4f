"""Download and install a Vosk speech model (a zip) into the profile's models folder.

    result = install_model(entry, models_dir(profile), on_progress=print, cancelled=stop)

1. Disk space: before anything is fetched, the zip's size × 2 (the zip and its unpacked
   copy) plus a reserve must be free, else NotEnoughDiskSpaceError says how much.
2. Download with httpx into `<models>/.downloads/<name>.zip.part`. A cut connection is
   retried; a later call resumes from the bytes already there (HTTP Range, guarded by
   If-Range with the server's ETag or Last-Modified, kept beside the .part file). A
   server that ignores Range sends the whole file again, which is handled too.
3. sha256 of the whole zip against the catalogue's digest: a mismatch deletes the
   download and installs nothing (ModelChecksumError).
4. Unpack safely: no absolute paths, no "..", no links, sizes checked against the free
   space; into a temporary folder inside the models folder, then one rename into place
   (a half-unpacked model is never seen as installed).

`cancelled()` is checked between chunks: a cancel raises Cancelled and keeps the .part
file, so the next attempt resumes. Network and archive problems become the
FieldCRMError kinds of desktop.capture.errors at this boundary.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from desktop.capture.errors import (
    ModelAlreadyInstalledError,
    ModelArchiveError,
    ModelChecksumError,
    ModelDownloadError,
    NotEnoughDiskSpaceError,
)
from desktop.capture.model_catalog import CatalogEntry
from desktop.capture.voice_models import check_model, looks_like_model
from desktop.errors import Cancelled, FieldCRMError

if TYPE_CHECKING:
    import httpx

ProgressFn = Callable[[str, int, "int | None"], None]  # phase, bytes done, bytes in all
DOWNLOADS_DIR = ".downloads"
CHUNK_BYTES = 256 * 1024
UNPACK_FACTOR = 2  # free space needed: the zip and its unpacked copy
DEFAULT_RESERVE = 200 * 1024 * 1024  # left free for everything else on the disk
DEFAULT_RETRIES = 3
CONNECT_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 60.0
PHASES = ("download", "verify", "unpack")


@dataclass(frozen=True)
class InstallResult:
    name: str
    path: Path
    language: str | None
    sha256: str
    verified: bool  # the digest matched the catalogue's (False: the catalogue had none)
    size: int
    resumed_from: int  # bytes that were already downloaded before this call

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "language": self.language,
                "sha256": self.sha256, "verified": self.verified, "size": self.size,
                "resumed_from": self.resumed_from}


def mb(n: float) -> str:
    return f"{n / 1_000_000:,.0f} MB" if n >= 10_000_000 else f"{n / 1_000_000:,.1f} MB"


def part_path(models: Path, entry: CatalogEntry) -> Path:
    """Where the download of `entry` is kept until it is installed."""
    return Path(models) / DOWNLOADS_DIR / f"{entry.name}.zip.part"


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _no_cancel() -> bool:
    return False


def _no_progress(_phase: str, _done: int, _total: int | None) -> None:
    return None


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk of `folder` (or of its nearest existing parent)."""
    probe = Path(folder).resolve()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def check_disk_space(folder: Path, needed: int, reserve: int = DEFAULT_RESERVE,
                     what: str = "the speech model") -> None:
    """Raise NotEnoughDiskSpaceError when fewer than `needed` + `reserve` bytes are free
    on the disk of `folder`."""
    free = free_bytes(folder)
    if free - reserve < needed:
        raise NotEnoughDiskSpaceError(
            f"Installing {what} needs about {mb(needed)} of free disk space in {folder} "
            f"(the download and its unpacked copy) besides {mb(reserve)} kept free, and "
            f"only {mb(free)} is free. Free some space, or choose a models folder on "
            "another disk, and try again.")


# ---------------------------------------------------------------- install
def install_model(entry: CatalogEntry, models: Path, *,
                  on_progress: ProgressFn | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  client: httpx.Client | None = None, retries: int = DEFAULT_RETRIES,
                  retry_wait: float = 1.0, reserve: int = DEFAULT_RESERVE,
                  replace: bool = False) -> InstallResult:
    """Download, check and unpack `entry` into `models/<entry.name>`; see the module's
    docstring. Raises ModelAlreadyInstalledError (unless `replace`),
    NotEnoughDiskSpaceError, ModelDownloadError, ModelChecksumError, ModelArchiveError,
    Cancelled."""
    models = Path(models)
    progress = on_progress or _no_progress
    stop = cancelled or _no_cancel
    target = models / entry.name
    if target.exists() and not replace:
        raise ModelAlreadyInstalledError(f"The speech model {entry.name} is already "
                                         f"installed in {target}.")
    part = part_path(models, entry)
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if entry.size:  # before anything is fetched
        check_disk_space(models, UNPACK_FACTOR * entry.size - have, reserve, entry.name)
    with download_lock(part, entry):
        own_client = client is None
        if client is None:
            import httpx

            client = httpx.Client(follow_redirects=True, timeout=httpx.Timeout(
                READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))
        try:
            size = download(entry, part, client=client, on_progress=progress,
                            cancelled=stop, retries=retries, retry_wait=retry_wait,
                            reserve=reserve)
        finally:
            if own_client:
                client.close()
        digest = verify(entry, part, progress, stop)
        path = unpack(part, models, entry.name, on_progress=progress, cancelled=stop,
                      reserve=reserve, replace=replace)
        discard_download(part)
    return InstallResult(entry.name, path, entry.language, digest, bool(entry.sha256), size,
                         have)


@contextlib.contextmanager
def download_lock(part: Path, entry: CatalogEntry) -> Iterator[None]:
    """Hold `<part>.lock` for one download: the app and a `fieldcrm capture models
    download` of the same model must not write the same .part file. The operating system
    lets go of the lock when the process ends, so a crash leaves nothing stuck. Raises
    ModelDownloadError while another process holds it."""
    lock = part.with_name(part.name + ".lock")
    f = lock.open("a+b")
    try:
        _lock_file(f)
    except OSError as exc:
        f.close()  # (the other holder's lock file stays)
        raise ModelDownloadError(
            f"{entry.name} is being downloaded already (by another FieldCRM window or "
            "command). Wait for it to finish, or stop it, and try again.") from exc
    try:
        yield
    finally:
        _unlock_file(f)
        f.close()
        with contextlib.suppress(OSError):
            lock.unlink()


def _lock_file(f: Any) -> None:
    if os.name == "nt":
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock_file(f: Any) -> None:
    if os.name == "nt":
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def discard_download(part: Path) -> None:
    """Delete a download and what was kept about it."""
    for p in (part, _meta_path(part)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


# ---------------------------------------------------------------- download
def _read_meta(part: Path) -> dict[str, str]:
    try:
        raw = json.loads(_meta_path(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}


def _write_meta(part: Path, url: str, response: httpx.Response) -> None:
    meta = {"url": url}
    for header in ("etag", "last-modified"):
        value = response.headers.get(header)
        if value:
            meta[header] = value
    _meta_path(part).write_text(json.dumps(meta), encoding="utf-8")


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, complete length) of a Content-Range header (None where unknown)."""
    if not value or not value.startswith("bytes"):
        return None, None
    spec = value[5:].strip()
    span, _, length = spec.partition("/")
    first = span.split("-")[0] if span != "*" else ""
    return (int(first) if first.isdigit() else None,
            int(length) if length.isdigit() else None)


def download(entry: CatalogEntry, part: Path, *, client: httpx.Client,
             on_progress: ProgressFn = _no_progress, cancelled: Callable[[], bool] = _no_cancel,
             retries: int = DEFAULT_RETRIES, retry_wait: float = 1.0,
             reserve: int = DEFAULT_RESERVE) -> int:
    """Fetch `entry.url` into `part`, resuming what is there; returns the zip's size.
    Raises ModelDownloadError (after `retries` retries of a cut connection),
    NotEnoughDiskSpaceError, Cancelled (the .part file stays for a resume)."""
    import httpx

    meta = _read_meta(part)
    if part.exists() and meta.get("url") != entry.url:
        discard_download(part)  # a download of something else: start again
        meta = {}
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        headers = {}
        if have:
            headers["Range"] = f"bytes={have}-"
            validator = meta.get("etag") or meta.get("last-modified")
            if validator:
                headers["If-Range"] = validator
        try:
            with client.stream("GET", entry.url, headers=headers) as response:
                done = _receive(entry, part, response, have, on_progress, cancelled, reserve)
            if done is not None:
                return done
            meta = {}
            continue  # the server could not resume: start again from byte 0
        except httpx.TransportError as exc:  # cut, refused, timed out
            attempt += 1
            if attempt > retries:
                got = part.stat().st_size if part.exists() else 0
                why = str(exc) or type(exc).__name__
                raise ModelDownloadError(
                    f"The download of {entry.name} from {entry.url} stopped ({why}) after "
                    f"{mb(got)}. Check the connection and try again: it resumes where it "
                    "stopped.") from exc
            time.sleep(retry_wait * attempt)
            meta = _read_meta(part)


def _receive(entry: CatalogEntry, part: Path, response: httpx.Response, have: int,
             on_progress: ProgressFn, cancelled: Callable[[], bool],
             reserve: int) -> int | None:
    """Write the body of one response; the zip's size when it is complete, None when the
    download must start again from byte 0."""
    import httpx

    status = response.status_code
    first, length = _content_range(response.headers.get("content-range"))
    if status == 416:  # nothing after `have`: complete already, or not this file
        if have and length == have:
            return have
        discard_download(part)
        return None
    if status == 206:
        if first != have:
            discard_download(part)
            return None
        total = length
        mode = "ab"
    elif status == 200:
        have, mode = 0, "wb"
        total = int(response.headers["content-length"]) \
            if response.headers.get("content-length", "").isdigit() else None
    else:
        raise ModelDownloadError(
            f"The server at {entry.url} answered {status} {response.reason_phrase} to the "
            f"download of {entry.name}. Check the address (Settings, Speech models) and "
            "try again.")
    size = total or entry.size
    if size:
        check_disk_space(part.parent.parent, UNPACK_FACTOR * size - have, reserve, entry.name)
    _write_meta(part, entry.url, response)
    done = have
    on_progress("download", done, total)
    with part.open(mode) as f:
        for chunk in response.iter_bytes():  # as received: a cut loses no buffered bytes
            if cancelled():
                raise Cancelled("The download was stopped; it resumes where it stopped.")
            f.write(chunk)
            done += len(chunk)
            on_progress("download", done, total)
    if total is not None and done < total:  # the server closed early without an error
        raise httpx.RemoteProtocolError(f"the connection closed after {done} of {total} bytes")
    return done


# ---------------------------------------------------------------- verify
def sha256_of(path: Path, on_progress: ProgressFn = _no_progress,
              cancelled: Callable[[], bool] = _no_cancel) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            if cancelled():
                raise Cancelled()
            h.update(chunk)
            done += len(chunk)
            on_progress("verify", done, total)
    return h.hexdigest()


def verify(entry: CatalogEntry, part: Path, on_progress: ProgressFn = _no_progress,
           cancelled: Callable[[], bool] = _no_cancel) -> str:
    """The zip's sha256; raises ModelChecksumError (and deletes the download) when the
    catalogue gives a different one."""
    digest = sha256_of(part, on_progress, cancelled)
    if entry.sha256 and digest != entry.sha256:
        discard_download(part)
        raise ModelChecksumError(
            f"The file downloaded from {entry.url} is not the expected speech model "
            f"{entry.name}: its sha256 is {digest}, the model list says {entry.sha256}. "
            "Nothing was installed and the download was deleted. Check the address and "
            "the digest in the model list, then download again.")
    return digest


# ---------------------------------------------------------------- unpack
def _safe_members(zf: zipfile.ZipFile, archive: Path) -> list[tuple[zipfile.ZipInfo, str]]:
    """Each member with its relative POSIX path; raises ModelArchiveError for an absolute
    path, "..", a drive letter or a link (path traversal)."""
    out = []
    for info in zf.infolist():
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        mode = info.external_attr >> 16
        if (name.startswith("/") or ".." in parts or (parts and ":" in parts[0])
                or stat.S_ISLNK(mode)):
            raise ModelArchiveError(
                f"{archive.name} holds an unsafe entry ({info.filename!r}: a link, an "
                "absolute path or a path that climbs out of its folder). Nothing was "
                "installed.")
        if parts:
            out.append((info, "/".join(parts)))
    return out


def _model_root(folder: Path) -> Path | None:
    """The Vosk model inside an unpacked archive: the folder itself or a sub-folder (at
    most two levels down)."""
    if looks_like_model(folder):
        return folder
    for depth in ("*", "*/*"):
        found = [p for p in sorted(folder.glob(depth)) if looks_like_model(p)]
        if found:
            return found[0]
    return None


def unpack(archive: Path, models: Path, name: str, *,
           on_progress: ProgressFn = _no_progress, cancelled: Callable[[], bool] = _no_cancel,
           reserve: int = DEFAULT_RESERVE, replace: bool = False) -> Path:
    """Unpack the model in `archive` as `models/<name>` (see the module's docstring).
    Raises ModelArchiveError (the download is deleted: it is no use),
    NotEnoughDiskSpaceError, ModelAlreadyInstalledError, Cancelled."""
    models = Path(models)
    staging = models / f".install-{name}-{uuid.uuid4().hex[:8]}"
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                members = _safe_members(zf, archive)
                total = sum(info.file_size for info, _ in members)
                check_disk_space(models, total, reserve, name)
                staging.mkdir(parents=True)
                done = 0
                on_progress("unpack", 0, total)
                for info, rel in members:
                    dest = staging / rel
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, dest.open("wb") as out:
                        while chunk := src.read(CHUNK_BYTES):
                            if cancelled():
                                raise Cancelled("Unpacking the speech model was stopped.")
                            out.write(chunk)
                            done += len(chunk)
                            on_progress("unpack", done, total)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            discard_download(archive)
            raise ModelArchiveError(f"{archive.name} is not a complete zip archive ({exc}). "
                                    "The download was deleted; download it again.") from exc
        except ModelArchiveError:
            discard_download(archive)
            raise
        root = _model_root(staging)
        try:
            if root is None:
                raise ModelArchiveError(f"There is no Vosk model (folders am/ and conf/) "
                                        f"in the archive downloaded for {name}.")
            check_model(root)
        except FieldCRMError as exc:
            discard_download(archive)
            if isinstance(exc, ModelArchiveError):
                raise
            raise ModelArchiveError(f"The model in the archive downloaded for {name} is "
                                    f"incomplete: {exc.message}") from exc
        return _move_into_place(root, models / name, replace)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(root: Path, target: Path, replace: bool) -> Path:
    """Rename the unpacked model to `target` (one rename on the same disk)."""
    old = None
    if target.exists():
        if not replace:
            raise ModelAlreadyInstalledError(f"The speech model {target.name} is already "
                                             f"installed in {target}.")
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    try:
        os.replace(root, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
