"""`fieldcrm --smoke-test`: check that this installation works, on a fresh profile.

Used by CI on every frozen build (Linux here; Windows and macOS in
.github/workflows/installers.yml) and useful to support staff on a rep's laptop. It
never touches the rep's own profile: everything runs in a new temporary folder that is
removed afterwards. It never connects to the network.

Prints one line per check, "ok <check> <detail>" or "FAIL <check> <reason>", and
returns 0 only when every check passed. Checks:
  window    the Qt app starts (QT_QPA_PLATFORM, default offscreen) and shows the main
            window, through the same start-up path as `fieldcrm` (desktop.ui.app.run_app)
  store     a record is written (phone normalised), found by text and pinyin, and read
            back after reopening
  demo      demo data is generated (Faker's Chinese and English locales are bundled)
  ocr       the bundled sample contract page is read and its fields come out right
  tesseract the Tesseract fallback runs and has its Chinese and English data
  speech    vosk's native library loads (speech models are optional extras) and the
            bundled M4A voice note decodes through Qt Multimedia's FFmpeg
  keyring   a throwaway secret is stored, read and deleted with the keyring backend
  tls       the bundled CA certificates load into an SSL context (no connection made)

FIELDCRM_SMOKE_ONLY=keyring,tls runs only the named checks (the summary line says so).

Keyring on machines without a keyring service (headless Linux CI has no Secret Service
on D-Bus): set PYTHON_KEYRING_BACKEND=desktop.smoke.SmokeTestKeyring to use the
in-memory backend below. It is never chosen on its own, and the check line says
plainly that it was used, so a real installation is never reported as having a keyring
it lacks.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.compat import properties

SMOKE_KEYRING_ENV = "PYTHON_KEYRING_BACKEND"
SMOKE_KEYRING_NAME = "desktop.smoke.SmokeTestKeyring"
SMOKE_SERVICE = "FieldCRM smoke test"
ONLY_ENV = "FIELDCRM_SMOKE_ONLY"  # e.g. "keyring,tls": run only these checks (tests)
WINDOW_TIMEOUT_MS = 30000
SAMPLE_DIR = "samples"
VOICE_SAMPLE = "voice_note_ko.m4a"  # 2.27 s of espeak-ng Korean, AAC
VOICE_SAMPLE_SECONDS = 2.27
NATIVE_KEYRING = {
    "win32": "keyring.backends.Windows",
    "darwin": "keyring.backends.macOS",
}
DEFAULT_NATIVE_KEYRING = "keyring.backends.SecretService"


class SmokeCheckFailed(Exception):
    """A check ran and found something wrong; the message is the reason printed."""


class SmokeTestKeyring(KeyringBackend):
    """In-memory keyring for `--smoke-test` on machines without a keyring service.

    Only used when named in PYTHON_KEYRING_BACKEND; never offered to keyring's automatic
    choice (its priority raises unless so named), so the app never keeps a secret in it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: dict[tuple[str, str], str] = {}

    @properties.classproperty
    def priority(cls) -> float:
        if os.environ.get(SMOKE_KEYRING_ENV) != SMOKE_KEYRING_NAME:
            raise RuntimeError("only for fieldcrm --smoke-test")
        return 0.1

    def get_password(self, service: str, username: str) -> str | None:
        return self._secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self._secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


# ------------------------------------------------------------------ paths
def resources_dir() -> Path:
    """The `resources` folder: beside the package in a checkout, in the bundle when frozen."""
    base = getattr(sys, "_MEIPASS", None)
    if base:
        return Path(base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_pages() -> list[Path]:
    folder = resources_dir() / SAMPLE_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".pdf", ".tif", ".tiff"})


# ------------------------------------------------------------------ checks
def check_window(profile: Path) -> str:
    """Start the app as `fieldcrm` does, with its start-up probe, and wait for the probe
    to report the main window shown and the first page of accounts loaded."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.ui.smoke_window import run_window_probe

    started = time.perf_counter()
    run = run_window_probe(profile, WINDOW_TIMEOUT_MS)
    total = time.perf_counter() - started
    marks = _probe_marks(run.stderr)
    if run.timed_out or marks is None:
        tail = run.stderr.strip().splitlines()[-3:]
        raise SmokeCheckFailed(
            f"the main window did not report its first page within {WINDOW_TIMEOUT_MS / 1000:.0f} s"
            + (f" ({' | '.join(tail)})" if tail else ""))
    if run.exit_code != 0:
        raise SmokeCheckFailed(f"the app exited with status {run.exit_code}")
    return (f"platform={run.platform} shown_ms={marks.get('window_shown_ms')} "
            f"first_page_ms={marks.get('first_page_ms')} total_s={total:.2f}")


def _probe_marks(stderr: str) -> dict[str, Any] | None:
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if line.startswith("{") and "window_shown_ms" in line:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return None


def check_store(profile: Path) -> str:
    """Write an account (the phone number is checked and normalised with phonenumbers'
    metadata), find it by Chinese text and by pinyin (pypinyin's dictionaries) and as the
    probable duplicate of its name written another way (rapidfuzz, python-stdnum), reopen
    the store and read it back."""
    from desktop.dedupe.service import check
    from desktop.store import Store

    name = "烟雾测试 Smoke Test 有限公司"
    store = Store.open(profile)
    try:
        rec = store.repo("account").create({"name": name, "phone": "138 0013 8000"})
        if rec.get("phone") != "+8613800138000":
            raise SmokeCheckFailed(
                f"phone number stored as {rec.get('phone')!r}, not +8613800138000")
        for query in ("烟雾测试", "yanwu"):
            hits = store.search(query, limit=5)
            if not any(h.id == rec["id"] for h in hits):
                raise SmokeCheckFailed(f"the new account was not found by searching {query!r}")
        found = check(store, "account", {"name": "烟雾测试 SMOKE TEST 股份有限公司",
                                         "uscc": "91440300708461136T"})
        if [c.id for c in found] != [rec["id"]]:
            raise SmokeCheckFailed(f"the duplicate check did not find the new account ({found})")
    finally:
        store.close()
    store = Store.open(profile)
    try:
        back = store.repo("account").get(rec["id"])
        pending = store.journal.counts().get("pending")
    finally:
        store.close()
    if back.get("name") != name:
        raise SmokeCheckFailed(f"read back {back.get('name')!r}, wrote {name!r}")
    return (f"account {rec['id']} written, found by text, pinyin and as a duplicate, "
            f"read back after reopening; journal pending={pending}")


def check_demo(profile: Path) -> str:
    """Demo data (Settings > Add demo data): Faker's zh_CN and en_US providers and the
    locales they fall back to must be in the bundle."""
    from desktop.demo import make_demo
    from desktop.store import Store

    store = Store.open(profile)
    try:
        counts = make_demo(store, accounts=3, seed=1)
    finally:
        store.close()
    if not counts or not any(counts.values()):
        raise SmokeCheckFailed(f"no demo records were made ({counts})")
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def _expected_fields(page: Path) -> dict[str, Any]:
    sidecar = page.with_suffix(".json")
    if not sidecar.is_file():
        raise SmokeCheckFailed(f"{sidecar.name} (the expected fields of {page.name}) is missing")
    data = json.loads(sidecar.read_text("utf-8"))
    fields = data.get("fields", data) if isinstance(data, dict) else None
    if not isinstance(fields, dict) or not fields:
        raise SmokeCheckFailed(f"{sidecar.name} holds no expected fields")
    return fields


def _same(got: Any, expected: Any) -> bool:
    """Field equality as a rep reads it: 6653000 == 6653000.0, dates and codes as text."""
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        try:
            return abs(float(got) - float(expected)) < 0.005
        except (TypeError, ValueError):
            return False
    return str(got) == str(expected)


def check_ocr(_profile: Path) -> str:
    pages = sample_pages()
    if not pages:
        raise SmokeCheckFailed(f"no sample page in {resources_dir() / SAMPLE_DIR}")
    page = pages[0]
    expected = _expected_fields(page)
    from desktop.capture.contract import capture_contract

    result = capture_contract([page], engine="auto")
    got = result.values()
    wrong = {k: (got.get(k), v) for k, v in expected.items() if not _same(got.get(k), v)}
    if wrong:
        shown = ", ".join(f"{k}: read {g!r}, expected {e!r}" for k, (g, e) in wrong.items())
        raise SmokeCheckFailed(f"{page.name} with {result.engine}: {shown}")
    return (f"{page.name} read by {result.engine} in {result.seconds:.1f} s, "
            f"{len(expected)} fields right")


def check_tesseract(_profile: Path) -> str:
    from desktop.capture.ocr import TesseractEngine

    TesseractEngine()  # raises OcrEngineMissingError: program or language data missing
    import pytesseract

    return f"tesseract {pytesseract.get_tesseract_version()} with chi_sim+eng"


def check_speech(profile: Path) -> str:
    import vosk

    vosk.SetLogLevel(-1)  # calls into libvosk: fails if the native library did not load
    from desktop.capture.voice_models import discover_models

    models = discover_models(profile)
    names = ", ".join(m.name for m in models) or "none (optional: see docs/packaging.md)"
    return (f"libvosk loaded from {Path(vosk.__file__).parent.name}/; {_decode_voice_sample()}; "
            f"speech models: {names}")


def _decode_voice_sample() -> str:
    """Imported voice notes are mostly M4A/MP3: they are read by Qt Multimedia's FFmpeg,
    which a trimmed bundle could lose without anything else noticing."""
    from desktop.capture.voice_audio import decode_audio
    from desktop.ui.capture.voice import audio_decoder

    audio_decoder.install()
    sample = resources_dir() / SAMPLE_DIR / VOICE_SAMPLE
    pcm = decode_audio(sample)
    if abs(pcm.seconds - VOICE_SAMPLE_SECONDS) > 0.15 or not pcm.looks_like_speech():
        raise SmokeCheckFailed(f"{sample.name} decoded to {pcm.seconds:.2f} s "
                               f"(expected {VOICE_SAMPLE_SECONDS} s of speech)")
    return f"{sample.name} decoded ({pcm.seconds:.2f} s at {pcm.sample_rate} Hz)"


def check_keyring(_profile: Path) -> str:
    import importlib

    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or not _backends_of(backend):
        raise SmokeCheckFailed(
            f"no usable keyring backend ({name}): unlock or install the system keyring "
            "(Windows Credential Manager, macOS Keychain, GNOME Keyring/KWallet on Linux)")
    user = f"smoke-{uuid.uuid4()}"
    secret = uuid.uuid4().hex
    keyring.set_password(SMOKE_SERVICE, user, secret)
    try:
        if keyring.get_password(SMOKE_SERVICE, user) != secret:
            raise SmokeCheckFailed(f"{name} returned a different secret than was stored")
    finally:
        keyring.delete_password(SMOKE_SERVICE, user)
    if keyring.get_password(SMOKE_SERVICE, user) is not None:
        raise SmokeCheckFailed(f"{name} still returns the secret after deleting it")
    native = NATIVE_KEYRING.get(sys.platform, DEFAULT_NATIVE_KEYRING)
    importlib.import_module(native)  # the platform's backend is in the bundle
    if name == SMOKE_KEYRING_NAME:
        return (f"{name} (in-memory test backend chosen by {SMOKE_KEYRING_ENV}: this machine "
                f"has no keyring service); {native} is bundled")
    return name


def _backends_of(backend: Any) -> list[Any]:
    return list(getattr(backend, "backends", None) or [backend])


def check_tls(_profile: Path) -> str:
    import ssl

    import certifi
    import httpx

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise SmokeCheckFailed(f"certifi's CA bundle {bundle} is missing")
    ctx = ssl.create_default_context(cafile=str(bundle))
    cas = ctx.cert_store_stats()["x509_ca"]
    subjects = {str(pair[1]) for cert in ctx.get_ca_certs() for rdn in cert.get("subject", ())
                for pair in rdn if pair[0] == "commonName"}
    if cas < 50 or "ISRG Root X1" not in subjects:
        raise SmokeCheckFailed(f"{bundle} holds {cas} CA certificates, not the expected roots")
    client_ctx = httpx.create_ssl_context()
    if client_ctx.cert_store_stats()["x509_ca"] < 50:
        raise SmokeCheckFailed("httpx's SSL context has no CA certificates loaded")
    if client_ctx.verify_mode != ssl.CERT_REQUIRED or not client_ctx.check_hostname:
        raise SmokeCheckFailed("httpx's SSL context does not verify certificates")
    return f"{cas} CA certificates from {bundle.name}; httpx verifies hostnames"


CHECKS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("window", check_window),
    ("store", check_store),
    ("demo", check_demo),
    ("ocr", check_ocr),
    ("tesseract", check_tesseract),
    ("speech", check_speech),
    ("keyring", check_keyring),
    ("tls", check_tls),
)


def run_smoke_test(profile: Path | None = None, out: Callable[[str], None] | None = None) -> int:
    """Run every check on a fresh temporary profile; `profile` (the rep's) is not used.

    Prints one line per check and returns 0 only when all passed.
    """
    if out is None:
        stream = sys.stdout  # None in a windowed Windows .exe: the exit code still tells
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")  # a cp1252 console
        out = (lambda line: print(line, flush=True)) if stream is not None else (lambda _l: None)
    emit = out
    only = {n.strip() for n in os.environ.get(ONLY_ENV, "").split(",") if n.strip()}
    checks = [(n, c) for n, c in CHECKS if not only or n in only]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="fieldcrm-smoke-") as tmp:
        fresh = Path(tmp) / "profile"
        emit(f"ok profile fresh {fresh}" + (f" ({profile} is not touched)" if profile else ""))
        for name, check in checks:
            started = time.perf_counter()
            try:
                detail = check(fresh)
            except Exception as exc:  # every failure is reported, and the next check runs
                failures += 1
                reason = (str(exc) if isinstance(exc, SmokeCheckFailed)
                          else f"{type(exc).__name__}: {exc}")
                emit(f"FAIL {name} {' '.join(reason.split())}")
            else:
                emit(f"ok {name} {detail} ({time.perf_counter() - started:.2f} s)")
    emit(f"{'ok' if failures == 0 else 'FAIL'} summary "
         f"{len(checks) - failures}/{len(checks)} checks passed"
         + (f" (only {', '.join(sorted(only))}: {ONLY_ENV})" if only else ""))
    return 0 if failures == 0 else 1
