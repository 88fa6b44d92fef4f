"""A sync client process for kill -9 tests: imports once, signs in once, then forks one
child per command; the test kills the children with SIGKILL at random moments.

    python -m tests.sync.kill_client SERVER_URL USER PASSWORD PROFILE...
stdin:  "sync <profile index> <batch>"  -> stdout "pid <n>" then "exit <n> <status>"
        "quit"
The parent signs each profile in (refresh token in an in-memory keyring of this
process) and takes an access token; the children inherit it through fork, so the kill
points fall in push and pull, not in the token refresh.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import keyring

from tests.memory_keyring import MemoryKeyring


def main() -> int:
    url, user, password, *profiles = sys.argv[1:]
    keyring.set_keyring(MemoryKeyring())
    from desktop.store import Store
    from desktop.sync import session
    from desktop.sync.client import SyncClient
    from desktop.sync.engine import SyncEngine

    tokens = []
    for p in profiles:
        session.login(Path(p), url, user, password)
        eng = SyncEngine(Path(p), live=False)
        store = eng._store()
        client = eng._client_for(store)
        client.me()  # takes an access token now
        eng._close_store()
        tokens.append((client.device_id, client._access))
        client.close()  # no pooled connection may be shared with the children
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        index, batch = int(cmd[1]), int(cmd[2])
        pid = os.fork()
        if pid == 0:  # the child: one sync round, then exit
            code = 0
            try:
                eng = SyncEngine(Path(profiles[index]), live=False, push_batch=batch,
                                 pull_page=batch)
                device_id, access = tokens[index]
                eng._client = SyncClient(url, device_id)
                eng._client._access = access
                eng.sync_once()
            except BaseException as exc:
                print(f"child error {exc!r}", file=sys.stderr)
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)
    Store  # noqa: B018 - keep the import warm for the children
    return 0


if __name__ == "__main__":
    sys.exit(main())
