"""The background sync engine: push the journal, pull since the cursor, stay live.

    engine = SyncEngine(profile)            # the profile must be signed in (desktop.sync.session)
    report = engine.sync_once()             # one round, in the calling thread (CLI)
    engine.start(); engine.request_sync(); engine.status(); engine.stop()   # the app

Threads. SQLite connections belong to the thread that opened them, so the engine opens
its own `Store` on each thread that syncs (WAL lets it sit beside the app's connection).
`start()` runs `run()` on one thread; a second thread listens to the server's
server-sent events and wakes the first when the server has something newer. Without the
event stream the engine pulls every `fallback_poll_s`. Edits made through another
connection are noticed by `PRAGMA data_version` (cheap) or at once by `request_sync()`.

Failures. Offline and a busy server are states, not errors: the engine waits with
exponential backoff and full jitter, and a local edit or a server event retries at once.
A 401 with a wipe code removes the local data (`desktop.sync.auth.wipe_profile`).
Every step is idempotent: pushed entries are acknowledged only after the server answered
(it deduplicates on device and seq), and the pull cursor is stored in the transaction
that applies the page, so a crash anywhere loses nothing and applies nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from desktop.dedupe.pairs import check_arrivals as check_arrived_duplicates  # issue 15
from desktop.errors import Cancelled, FieldCRMError, StoreError
from desktop.store import Changes, Store, bulkindex, indexer
from desktop.store.database import bulk_writing
from desktop.store.gcpause import collect_young, collector_paused
from desktop.store.remote import CURSOR_KEY
from desktop.store.visibility import (
    converge,
    converge_scope,
    drop_refused,
    repull_progress,
    repull_wanted,
)
from desktop.sync import blobs, versions
from desktop.sync.auth import META_LAST_FRESH, Account, load_account, wipe_profile
from desktop.sync.client import SyncClient
from desktop.sync.errors import (
    OfflineError,
    ServerBusyError,
    ServerNotAnsweringError,
    SignedOutError,
    UpdateRequired,
    WipeRequired,
)
from desktop.sync.protocol import DEFAULT_PULL_PAGE, DEFAULT_PUSH_BATCH
from desktop.sync.status import Progress, State, SyncReport, SyncStatus

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 60.0
FALLBACK_POLL_S = 10.0  # no live stream: pull this often
LIVE_POLL_S = 120.0  # live stream up: a safety pull this often anyway
UPDATE_RECHECK_S = 300.0  # the server wants a newer app: ask again this often
WATCH_SLICE_S = 0.2
# offline attempts in a row (~5-15 s of backoff) after which indexes a cut-off first sync
# left out are built (SyncEngine._restore_indexes)
OFFLINE_RESTORE_AFTER = 4
BULK_WRITING_FROM = 100_000  # rows to pull from which the store writes in bulk (database)
BULK_PULL_PAGE = 8000  # page size while catching up (has_more): fewer round trips
BULK_PUSH_BATCH = 2000  # batch size for a backlog, while each push answers quickly
SLOW_PUSH_S = 3.0  # a push slower than this (a poor link): back to the normal batch size
WAITING = (State.OFFLINE, State.NOT_ANSWERING)  # no server to talk to: edits wait
# Records the live loop keys for the duplicate check per pass (desktop.dedupe.pairs); the
# rest in the next pass, so edits keep flowing after a big first sync.
DEDUPE_SLICE = 20_000
FRESH_PERSIST_S = 10.0

StatusListener = Callable[[SyncStatus], None]
ProgressListener = Callable[[Progress], None]


def backoff_delay(attempt: int, rng: random.Random, base: float = BACKOFF_BASE_S,
                  cap: float = BACKOFF_CAP_S) -> float:
    """Exponential backoff with full jitter: uniform in [base/2, min(cap, base * 2**n)]."""
    top = min(cap, base * (2 ** min(attempt, 30)))
    return rng.uniform(min(base / 2, top), top)


class SyncEngine:
    def __init__(self, profile: Path, *, transport: httpx.BaseTransport | None = None,
                 push_batch: int = DEFAULT_PUSH_BATCH, pull_page: int = DEFAULT_PULL_PAGE,
                 live: bool = True, fallback_poll_s: float = FALLBACK_POLL_S,
                 live_poll_s: float = LIVE_POLL_S, rng: random.Random | None = None,
                 on_status: StatusListener | None = None,
                 on_progress: ProgressListener | None = None,
                 on_change: Callable[[Changes], None] | None = None,
                 device_name: str = "", timeout: httpx.Timeout | None = None,
                 bulk_pull_page: int | None = None, bulk_push_batch: int | None = None) -> None:
        self.profile = Path(profile)
        self.transport = transport
        self.push_batch = push_batch
        self.pull_page = pull_page
        self.bulk_pull_page = bulk_pull_page or (
            BULK_PULL_PAGE if pull_page == DEFAULT_PULL_PAGE else pull_page)
        self.bulk_push_batch = bulk_push_batch or (
            BULK_PUSH_BATCH if push_batch == DEFAULT_PUSH_BATCH else push_batch)
        self.live = live
        self.fallback_poll_s = fallback_poll_s
        self.live_poll_s = live_poll_s
        self.rng = rng or random.Random()
        self.device_name = device_name
        self.timeout = timeout
        self._on_status = on_status
        self._on_progress = on_progress
        self._on_change = on_change
        self._local = threading.local()
        self._client: SyncClient | None = None
        self._account: Account | None = None
        self._client_lock = threading.Lock()
        self._status = SyncStatus()
        self._status_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events_thread: threading.Thread | None = None
        self._cursor = 0
        self._server_seen = 0
        self._requested = False
        self._blobs_wanted = True  # look once per engine for files named but not here
        self._fresh_saved = 0.0
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-prefetch")

    # ------------------------------------------------------------ public
    def status(self) -> SyncStatus:
        with self._status_lock:
            return self._status

    def request_sync(self) -> None:
        """Something changed locally (or the user asked): sync as soon as possible."""
        self._requested = True
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="sync-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._client is not None:
            self._client.abort_events()
        for th in (self._thread, self._events_thread):
            if th is not None and th is not threading.current_thread():
                th.join(timeout)
        self._thread = None

    def close(self) -> None:
        """Release what the calling thread holds (its store) and the HTTP client."""
        self._close_store()
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        self._prefetch.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ one round
    def sync_once(self, cancel: threading.Event | None = None, *,
                  wait_for_index: bool = True) -> SyncReport:
        """Push everything pending, then pull until current. What a big pull brings is
        made searchable by pinyin and phone beside it, by the index builder's process
        (desktop.store.indexer), poked as each page lands; `wait_for_index`: return only
        once that is done (the CLI; the live loop does not wait).
        Raises OfflineError, ServerBusyError, SignedOutError, WipeRequired (after
        wiping), Cancelled."""
        store = self._store()
        report = SyncReport()
        # Edits committed by other connections after this point wake the idle loop.
        self._local.seen_version = _data_version(store)
        self._update(state=State.SYNCING, message="")
        try:
            client = self._client_for(store)
            asked = time.time()
            with collector_paused():  # pages of acyclic rows (desktop.store.gcpause)
                if self._push_all(store, client, report, cancel):
                    self._mark_fresh(store, asked)  # the server had nothing but our own edits
                else:
                    self._pull_all(store, client, report, cancel)
            # Caught up: the indexes a first sync left out are built once, from the whole
            # table (desktop.store.bulkindex); also those a sync killed midway left out.
            bulkindex.restore(store)
            if self._blobs_wanted:
                report.blobs = blobs.download_missing(client, store, blobs.missing_in_store(store))
                self._blobs_wanted = False
            builder = indexer.build_in_background(store)  # also what an import left behind
            if wait_for_index and builder is not None:
                builder.wait_idle(store, cancelled=cancel.is_set if cancel else None)
                builder = None
            if builder is None:  # records are checked once indexed (their keys come along)
                check_arrived_duplicates(store, max_rows=None if wait_for_index else DEDUPE_SLICE,
                                         cancelled=cancel.is_set if cancel else None)
        except WipeRequired:
            self._wipe(store)
            raise
        except BaseException:
            with contextlib.suppress(FieldCRMError):
                self._note_versions(store)
                self._refresh_counts(store)
            raise
        self._note_versions(store)
        self._refresh_counts(store)
        report.complete = True
        self._update(state=State.IDLE, message="", progress=None)
        return report

    def _push_all(self, store: Store, client: SyncClient, report: SyncReport,
                  cancel: threading.Event | None) -> bool:
        """Push every pending entry. Returns True when the server's versions show that
        nothing but this push happened since our cursor (each applied entry that changed
        something takes exactly one version), so the cursor moves to the server version
        without a pull: the server holds exactly what this device holds for those records."""
        after = 0
        cursor = int(store.meta_get(CURSOR_KEY) or 0)
        if self._cursor == 0 and self._server_seen == 0:
            # A fresh engine knows nothing newer than the stored cursor; the version check
            # below still proves whether anyone else wrote since.
            self._cursor = cursor
        exact = cursor == self._cursor and self._server_seen <= cursor
        pushed_any = False
        entries = store.journal.pending(limit=self.push_batch, after_seq=after)
        sent: Future[dict[str, Any]] | None = None
        took = 0.0
        try:
            while entries:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                pushed_any = True
                blobs.upload(client, store, (h for e in entries if e.entity in blobs.BLOB_FIELDS
                                             for h in blobs.hashes_in(e.entity, e.fields)))
                asked = time.monotonic()
                sent = self._prefetch.submit(client.push, [e.to_wire() for e in entries])
                after = entries[-1].seq
                # Read the next batch while the server applies this one: a backlog goes in
                # bigger batches unless the last push was slow.
                size = self.bulk_push_batch if took < SLOW_PUSH_S else self.push_batch
                upcoming = store.journal.pending(limit=size, after_seq=after)
                resp, sent = sent.result(), None
                took = time.monotonic() - asked
                acked: list[int] = []
                superseded: dict[int, list[str]] = {}
                parked: list[tuple[int, str]] = []
                refused: list[tuple[int, list[str], str]] = []
                applied = 0
                for r in resp.get("results", []):
                    status, seq = r.get("status"), int(r.get("seq", 0))
                    if status in ("applied", "duplicate"):
                        acked.append(seq)
                        if r.get("refused"):
                            refused.append((seq, list(r["refused"]), str(r.get("reason") or "")))
                            exact = False
                        if r.get("superseded"):
                            superseded[seq] = list(r["superseded"])
                            exact = False
                        elif status == "applied":
                            applied += 1
                        else:
                            exact = False
                    elif status == "rejected":
                        parked.append((seq, str(r.get("reason") or "rejected by the server")))
                        exact = False
                version = int(resp.get("version") or 0)
                exact = (exact and len(resp.get("results", [])) == len(entries)
                         and version == cursor + applied)
                cursor = version
                if refused:  # fields its user may not read: their local values go
                    by_seq = {e.seq: e for e in entries}
                    drop_refused(store, [(q, by_seq[q].entity, by_seq[q].record_id, names)
                                         for q, names, _ in refused if q in by_seq])
                    report.refused.extend(why for _, _, why in refused)
                store.journal.settle(acked, parked, superseded)
                report.pushed += len(acked)
                report.parked += len(parked)
                self._server_seen = max(self._server_seen, version)
                entries = upcoming
        finally:
            _settle(sent)
        if not (pushed_any and exact):
            return False
        store.meta_set(CURSOR_KEY, str(cursor))
        self._cursor = report.cursor = cursor
        return True

    def _pull_all(self, store: Store, client: SyncClient, report: SyncReport,
                  cancel: threading.Event | None) -> None:
        cursor = int(store.meta_get(CURSOR_KEY) or 0)
        self._cursor = cursor
        total: int | None = None
        asked = time.time()
        page = client.pull(cursor, self.pull_page)
        ahead: Future[dict[str, Any]] | None = None
        bulk = contextlib.ExitStack()
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                changes = page.get("changes") or []
                next_cursor = int(page["cursor"])
                if not self._blobs_wanted and blobs.BLOB_FIELDS:
                    self._blobs_wanted = any(True for ch in changes
                                             for _ in blobs.hashes_in(ch["entity"], ch["fields"]))
                if page.get("has_more"):  # fetch the next page while this one is applied
                    ahead = self._prefetch.submit(client.pull, next_cursor, self.bulk_pull_page)
                if total is None and page.get("total_estimate") is not None:
                    total = int(page["total_estimate"])
                    if total > BULK_WRITING_FROM:
                        bulk.enter_context(bulk_writing(store.conn))
                if "scope" in page:  # whose records this user may see (teams, regions)
                    converge_scope(store, page["scope"])
                if not changes and next_cursor == cursor and "visibility" in page:
                    converge(store, page["visibility"])  # nothing new but perhaps the rules
                elif changes or next_cursor != cursor:
                    res = store.apply_remote(changes, next_cursor, page.get("visibility"))
                    if res.deferred:
                        indexer.build_in_background(store)
                    report.applied += res.applied
                    report.conflicts += res.conflicts
                    report.skipped.extend(res.skipped)
                report.pulled += len(changes)
                del changes
                collect_young()  # the page's cycles now, not at the end of the pull
                cursor = self._cursor = report.cursor = next_cursor
                self._server_seen = max(self._server_seen, int(page.get("server_version") or 0))
                if total is not None and total > 1000:
                    prog = Progress(report.pulled, total)
                    self._update(progress=prog)
                    if self._on_progress is not None:
                        self._on_progress(prog)
                if ahead is None:
                    break
                asked = time.time()
                page, ahead = ahead.result(), None
        finally:
            _settle(ahead)
            bulk.close()
        self._pull_again(store, client, report, cancel)
        self._mark_fresh(store, asked)

    def _pull_again(self, store: Store, client: SyncClient, report: SyncReport,
                    cancel: threading.Event | None) -> None:
        """Pull again from the start the record types whose fields the user may now read
        more of, after a visibility change (desktop.store.visibility): their values
        arrive. Resumes where it stopped; the main cursor is not touched."""
        want = repull_wanted(store)
        while want is not None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            entities, cursor = want
            page = client.pull(cursor, self.bulk_pull_page, entities)
            if "scope" in page:
                converge_scope(store, page["scope"])
            changes = page.get("changes") or []
            res = store.apply_remote(changes, None, page.get("visibility"))
            if res.deferred:
                indexer.build_in_background(store)
            report.applied += res.applied
            report.pulled += len(changes)
            repull_progress(store, entities,
                            int(page["cursor"]) if page.get("has_more") else None)
            want = repull_wanted(store)

    # ------------------------------------------------------------ the loop
    def run(self, stop: threading.Event | None = None) -> None:
        """Sync until `stop` (or `self.stop()`): at once, then on every local edit,
        server event or poll interval; back off while offline."""
        stop = stop or self._stop
        attempt = 0
        try:
            while not (stop.is_set() or self._stop.is_set()):
                self._wake.clear()
                self._requested = False
                wait_s = self.fallback_poll_s
                try:
                    self.sync_once(cancel=stop, wait_for_index=False)
                    attempt = 0
                    self._ensure_events()
                    wait_s = self.live_poll_s if self.status().live else self.fallback_poll_s
                except Cancelled:
                    break
                except WipeRequired as exc:
                    self._update(state=State.WIPED, message=exc.message)
                    return
                except SignedOutError as exc:
                    self._update(state=State.SIGNED_OUT, message=exc.message)
                    return
                except UpdateRequired as exc:
                    # Nothing was sent: the journal keeps every change until the app is
                    # updated. Ask again now and then (the minimum may be lowered).
                    wait_s = UPDATE_RECHECK_S
                    self._update(state=State.UPDATE_REQUIRED, message=exc.message,
                                 progress=None)
                except (OfflineError, ServerBusyError) as exc:
                    attempt += 1
                    wait_s = backoff_delay(attempt, self.rng)
                    if attempt == OFFLINE_RESTORE_AFTER:
                        self._restore_indexes()
                    state = (State.NOT_ANSWERING if isinstance(exc, ServerNotAnsweringError)
                             else State.OFFLINE)
                    self._update(state=state, message=exc.message, progress=None)
                except (FieldCRMError, StoreError) as exc:
                    attempt += 1
                    wait_s = backoff_delay(attempt, self.rng)
                    log.warning("sync failed: %s", exc)
                    self._update(state=State.ERROR, message=exc.message, progress=None)
                self._idle(stop, wait_s)
        finally:
            self._close_store()
            if self.status().state not in (State.WIPED, State.SIGNED_OUT):
                self._update(state=State.STOPPED, live=False)

    def _restore_indexes(self) -> None:
        """A first sync cut off by the network has left indexes for after its pull
        (desktop.store.bulkindex); offline for a while, the rep works on what landed:
        build them now rather than at the next sync, whenever that is."""
        with contextlib.suppress(FieldCRMError):
            bulkindex.restore(self._store())  # nothing held: one read of meta

    def _idle(self, stop: threading.Event, wait_s: float) -> None:
        """Wait up to `wait_s`, returning early on stop, a wake-up, or an edit made
        through another connection to the store."""
        deadline = time.monotonic() + wait_s
        store = self._store()
        seen = getattr(self._local, "seen_version", None)
        if seen is None:
            seen = _data_version(store)
        while not (stop.is_set() or self._stop.is_set()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(min(remaining, WATCH_SLICE_S)):
                self._wake.clear()
                # A server event about versions we already hold (our own push) is no news.
                if self._requested or self._server_seen > self._cursor or self._stop.is_set():
                    return
                continue
            now_version = _data_version(store)
            if now_version != seen:
                seen = self._local.seen_version = now_version
                self._refresh_counts(store)
                if self.status().pending and self.status().state not in WAITING:
                    return

    # ------------------------------------------------------------ live events
    def _ensure_events(self) -> None:
        if not self.live or (self._events_thread is not None and self._events_thread.is_alive()):
            return
        self._events_thread = threading.Thread(target=self._events_loop, name="sync-events",
                                               daemon=True)
        self._events_thread.start()

    def _events_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            client = self._client
            if client is None:
                return
            try:
                for version in client.events(self._cursor, self._stop):
                    attempt = 0
                    if not self.status().live:
                        self._update(live=True)
                    if version is None:
                        continue
                    self._server_seen = max(self._server_seen, version)
                    if version > self._cursor:
                        self._wake.set()
                    else:
                        self._mark_fresh_live()
            except WipeRequired:
                self._wake.set()  # the sync thread meets the same answer and wipes
                return
            except SignedOutError:
                return
            except FieldCRMError as exc:
                log.debug("live stream: %s", exc)
            except Exception:
                log.exception("live stream failed")
            self._update(live=False)
            attempt += 1
            self._stop.wait(backoff_delay(attempt, self.rng))

    # ------------------------------------------------------------ helpers
    def _store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.profile, refetchable=True)
            if self._on_change is not None:
                store.on_change(self._on_change)
            self._local.store = store
        return store

    def _close_store(self) -> None:
        store = getattr(self._local, "store", None)
        if store is not None:
            self._local.store = None
            with contextlib.suppress(Exception):
                store.close()

    def _client_for(self, store: Store) -> SyncClient:
        with self._client_lock:
            if self._client is None:
                account = load_account(store)
                if account is None:
                    raise SignedOutError("This profile is not signed in to a sync server. "
                                         "Sign in first (fieldcrm login).")
                token = account.load_token()
                if not token:
                    raise SignedOutError()
                self._account = account
                self._client = SyncClient(account.server_url, store.device_id,
                                          refresh_token=token, on_refresh_token=account.save_token,
                                          transport=self.transport, timeout=self.timeout)
            return self._client

    def _wipe(self, store: Store) -> None:
        log.warning("the server ended this device's access: wiping the local profile")
        account = self._account or load_account(store)
        self._local.store = None
        indexer.close_worker(self.profile)  # its connection must not outlive the files
        wipe_profile(self.profile, account, store)
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        self._update(state=State.WIPED, pending=0, parked=0, conflicts=0, live=False)

    def _note_versions(self, store: Store) -> None:
        """Keep and show what the server said about client versions."""
        got = self._client.versions if self._client is not None else None
        if got is None:
            return
        versions.save(store, got)
        self._update(update=got.update(), latest_version=got.latest,
                     download_url=got.download_url)

    def _refresh_counts(self, store: Store) -> None:
        counts = store.journal.counts()
        conflicts = int(store.conn.execute(
            "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL").fetchone()[0])
        last = store.meta_get(META_LAST_FRESH)
        fresh = self.status().last_fresh or (float(last) if last else None)
        self._update(pending=counts.get("pending", 0), parked=counts.get("parked", 0),
                     conflicts=conflicts, last_fresh=fresh, cursor=self._cursor,
                     server_version=self._server_seen or None)

    def _mark_fresh(self, store: Store, at: float) -> None:
        self._update(last_fresh=at)
        if at - self._fresh_saved >= FRESH_PERSIST_S:
            self._fresh_saved = at
            store.meta_set(META_LAST_FRESH, f"{at:.3f}")

    def _mark_fresh_live(self) -> None:
        """The server just told us its newest version, and we hold it: still fresh."""
        if self.status().state is State.IDLE:
            self._update(last_fresh=time.time())

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            old = self._status
            new = SyncStatus(**{**old.__dict__, **changes})
            self._status = new
        if new != old and self._on_status is not None:
            try:
                self._on_status(new)
            except Exception:
                log.exception("status listener failed")


def _settle(request: Future[Any] | None) -> None:
    """Let a request still in flight on the prefetch thread finish (its outcome no longer
    matters) before anyone closes the client under it."""
    if request is not None and not request.cancel():
        with contextlib.suppress(Exception):
            request.result()


def _data_version(store: Store) -> int:
    return int(store.conn.execute("PRAGMA data_version").fetchone()[0])
