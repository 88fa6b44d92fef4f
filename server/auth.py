"""Passwords, devices and tokens.

- Passwords: argon2id (argon2-cffi). `FIELDCRM_ARGON2_PROFILE=test` makes new hashes
  cheap for test suites; verification always uses the parameters inside the hash.
- Login binds a device to the user and returns a refresh token (random, stored as its
  sha256, rotated on every refresh) and an access token (JWT HS256, 15 min) carrying
  user, device and the device's token generation `gen`.
- A rotated token that comes back within REUSE_GRACE_S, while its successor has not
  been used, is taken as a retry after a lost reply and answered with a fresh pair (the
  unseen successor is dropped).
- Reusing a rotated refresh token later revokes the device's whole chain: every refresh token
  of the device is dropped and `gen` is bumped, so its access tokens die too.
- Every authenticated request re-reads the device and the user: a revoked device, a
  disabled user or a logged-out device is refused at once, whatever the token says.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass

import argon2
import jwt
import sqlalchemy as sa

from desktop.schema import Role
from desktop.sync.protocol import TokenPair
from server import tables as t
from server.db import write_tx
from server.errors import api_error, now_iso

JWT_ALGORITHM = "HS256"
JWT_SECRET_KEY = "jwt_secret"
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
USERNAME_RE = re.compile(r"^[^\x00-\x1f]{1,100}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# How long a rotated refresh token may come back without ending the session: long
# enough for a client to retry after a lost reply, short enough to limit a stolen copy.
REUSE_GRACE_S = 60.0


def _age_s(iso: str) -> float:
    stamp = dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - stamp).total_seconds()


def _hasher() -> argon2.PasswordHasher:
    if os.environ.get("FIELDCRM_ARGON2_PROFILE") == "test":
        return argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    return argon2.PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@functools.cache
def _dummy_hash() -> str:
    """A hash with the current parameters, verified for unknown users so that they take
    as long to refuse as wrong passwords (no user-name probing by timing)."""
    return _hasher().hash("not a password")


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return (argon2.PasswordHasher().verify(stored or _dummy_hash(), password)
                and stored is not None)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_jwt_secret(engine: sa.Engine) -> str:
    """The signing key: $FIELDCRM_JWT_SECRET, else one random key kept in the database's
    settings table (so every server process on one database shares it)."""
    env = os.environ.get("FIELDCRM_JWT_SECRET")
    if env:
        return env
    with write_tx(engine) as conn:
        row = conn.execute(
            sa.select(t.settings.c.value).where(t.settings.c.key == JWT_SECRET_KEY)).first()
        if row:
            return str(row[0])
        secret = secrets.token_hex(32)
        conn.execute(t.settings.insert().values(key=JWT_SECRET_KEY, value=secret))
        return secret


@dataclass(frozen=True)
class Principal:
    """The authenticated user and device of one request."""

    user_id: str
    username: str
    role: Role
    device_id: str
    teams: tuple[str, ...]


class Auth:
    def __init__(self, engine: sa.Engine, secret: str, access_ttl_s: int) -> None:
        self.engine = engine
        self.secret = secret
        self.access_ttl_s = access_ttl_s

    # ------------------------------------------------------------ tokens
    def _access_token(self, user_id: str, device_id: str, gen: int) -> str:
        now = int(time.time())
        claims = {"sub": user_id, "dev": device_id, "gen": gen, "iat": now,
                  "exp": now + self.access_ttl_s, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.secret, algorithm=JWT_ALGORITHM)

    def _issue(self, conn: sa.Connection, user: sa.Row, device_id: str, gen: int) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        conn.execute(t.refresh_tokens.insert().values(
            token_hash=token_hash(refresh), device_id=device_id, gen=gen, created_at=now_iso()))
        conn.execute(t.devices.update().where(t.devices.c.id == device_id).values(
            last_seen_at=now_iso()))
        return TokenPair(access_token=self._access_token(user.id, device_id, gen),
                         refresh_token=refresh, expires_in=self.access_ttl_s,
                         user_id=user.id, username=user.username, role=user.role)

    # ------------------------------------------------------------ login / refresh / logout
    def login(self, username: str, password: str, device_id: str, device_name: str) -> TokenPair:
        if not DEVICE_ID_RE.match(device_id):
            raise api_error(422, "bad_device_id", "device_id must be 1-64 letters, digits or _.:-")
        bad = api_error(401, "invalid_credentials", "Wrong user name or password.")
        if not USERNAME_RE.match(username) or "\x00" in password:
            raise bad
        device_name = CONTROL_RE.sub("", device_name)[:200]
        with self.engine.connect() as conn:
            user = conn.execute(sa.select(t.users).where(t.users.c.username == username)).first()
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise bad
        if user.disabled:
            raise api_error(401, "user_disabled",
                            "This account is disabled; ask your administrator.")
        with write_tx(self.engine) as conn:
            dev = conn.execute(sa.select(t.devices).where(t.devices.c.id == device_id)).first()
            if dev is None:
                gen = 1
                conn.execute(t.devices.insert().values(
                    id=device_id, user_id=user.id, name=device_name, gen=gen,
                    logged_out=False, created_at=now_iso()))
            elif dev.user_id != user.id:
                raise api_error(409, "device_in_use",
                                "This device id belongs to another user; make a new device id.")
            elif dev.revoked_at is not None:
                raise api_error(401, "device_revoked",
                                "This device was revoked; its local data must be wiped.")
            else:
                gen = dev.gen + 1  # a fresh login ends any older session of this device
                conn.execute(t.refresh_tokens.delete().where(
                    t.refresh_tokens.c.device_id == device_id))
                conn.execute(t.devices.update().where(t.devices.c.id == device_id).values(
                    gen=gen, logged_out=False, name=device_name or dev.name))
            return self._issue(conn, user, device_id, gen)

    def refresh(self, refresh_token: str, device_id: str) -> TokenPair:
        invalid = api_error(401, "refresh_invalid", "The session has ended; log in again.")
        h = token_hash(refresh_token)
        with write_tx(self.engine) as conn:
            row = conn.execute(
                sa.select(t.refresh_tokens, t.devices.c.gen.label("dev_gen"),
                          t.devices.c.revoked_at,
                          t.devices.c.logged_out, t.devices.c.user_id)
                .join(t.devices, t.devices.c.id == t.refresh_tokens.c.device_id)
                .where(t.refresh_tokens.c.token_hash == h)).first()
            if row is None or row.device_id != device_id:
                raise invalid
            user = conn.execute(sa.select(t.users).where(t.users.c.id == row.user_id)).one()
            self._check_live(row.revoked_at, row.logged_out, user.disabled)
            if row.gen != row.dev_gen:
                raise invalid
            used = conn.execute(t.refresh_tokens.update().where(
                t.refresh_tokens.c.token_hash == h, t.refresh_tokens.c.used_at.is_(None))
                .values(used_at=now_iso())).rowcount
            if used == 1:
                return self._issue(conn, user, device_id, row.gen)
            advanced = conn.execute(sa.select(t.refresh_tokens.c.token_hash).where(
                t.refresh_tokens.c.device_id == device_id,
                t.refresh_tokens.c.used_at > row.used_at)).first() is not None
            if not advanced and _age_s(row.used_at) <= REUSE_GRACE_S:
                # The reply carrying the successor was probably lost (flaky network):
                # the device retries with the token it still holds. Replace the unseen
                # successor rather than end the session.
                conn.execute(t.refresh_tokens.delete().where(
                    t.refresh_tokens.c.device_id == device_id,
                    t.refresh_tokens.c.used_at.is_(None)))
                return self._issue(conn, user, device_id, row.gen)
            # A rotated token came back: someone holds a copy. End the whole chain.
            conn.execute(t.refresh_tokens.delete().where(t.refresh_tokens.c.device_id == device_id))
            conn.execute(t.devices.update().where(t.devices.c.id == device_id)
                         .values(gen=t.devices.c.gen + 1))
        raise api_error(401, "refresh_reused",
                        "This session was used twice and has been ended; log in again.")

    def logout(self, p: Principal) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(t.refresh_tokens.delete().where(
                t.refresh_tokens.c.device_id == p.device_id))
            conn.execute(t.devices.update().where(t.devices.c.id == p.device_id)
                         .values(logged_out=True, gen=t.devices.c.gen + 1))

    # ------------------------------------------------------------ every request
    @staticmethod
    def _check_live(revoked_at: str | None, logged_out: bool, disabled: bool) -> None:
        if revoked_at is not None:
            raise api_error(401, "device_revoked",
                            "This device was revoked; its local data must be wiped.")
        if disabled:
            raise api_error(401, "user_disabled",
                            "This account is disabled; its local data must be wiped.")
        if logged_out:
            raise api_error(401, "logged_out", "This device has logged out.")

    def authenticate_principal(self, p: Principal) -> Principal:
        """Re-check that a principal's device and user are still live (long requests)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.devices.c.revoked_at, t.devices.c.logged_out, t.users.c.disabled)
                .join(t.users, t.users.c.id == t.devices.c.user_id)
                .where(t.devices.c.id == p.device_id)).one()
        self._check_live(row.revoked_at, row.logged_out, row.disabled)
        return p

    def ended_devices(self, device_ids: list[str]) -> frozenset[str]:
        """Which of these devices may no longer listen (revoked, logged out, their user
        disabled): one query for every open live stream of the process."""
        if not device_ids:
            return frozenset()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.devices.c.id).join(t.users, t.users.c.id == t.devices.c.user_id)
                .where(t.devices.c.id.in_(device_ids),
                       sa.or_(t.devices.c.revoked_at.is_not(None), t.devices.c.logged_out,
                              t.users.c.disabled))).scalars().all()
        return frozenset(rows)

    def authenticate(self, bearer: str | None) -> Principal:
        """Check an access token and that its device and user are still live.

        Raises HTTPException 401 with a code: token_missing, token_expired, token_invalid,
        session_ended, device_revoked, user_disabled, logged_out.
        """
        if not bearer:
            raise api_error(401, "token_missing", "Log in first.")
        try:
            claims = jwt.decode(bearer, self.secret, algorithms=[JWT_ALGORITHM],
                                options={"require": ["exp", "sub", "dev", "gen"]})
        except jwt.ExpiredSignatureError:
            raise api_error(401, "token_expired", "The access token expired; refresh it.") from None
        except jwt.PyJWTError:
            raise api_error(401, "token_invalid", "The access token is not valid.") from None
        dev_id, user_id, gen = claims.get("dev"), claims.get("sub"), claims.get("gen")
        if not (isinstance(dev_id, str) and isinstance(user_id, str) and isinstance(gen, int)):
            raise api_error(401, "token_invalid", "The access token is not valid.")
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.devices.c.gen, t.devices.c.revoked_at, t.devices.c.logged_out,
                          t.devices.c.user_id, t.users.c.username, t.users.c.role,
                          t.users.c.disabled)
                .join(t.users, t.users.c.id == t.devices.c.user_id)
                .where(t.devices.c.id == dev_id)).first()
            if row is None or row.user_id != user_id:
                raise api_error(401, "token_invalid", "The access token is not valid.")
            self._check_live(row.revoked_at, row.logged_out, row.disabled)
            if row.gen != gen:
                raise api_error(401, "session_ended", "This session has ended; log in again.")
            teams = conn.execute(sa.select(t.team_members.c.team)
                                 .where(t.team_members.c.user_id == user_id)
                                 .order_by(t.team_members.c.team)).scalars().all()
        return Principal(user_id, row.username, Role(row.role), dev_id, tuple(teams))

