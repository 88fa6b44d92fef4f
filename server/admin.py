"""Administration: teams, users, devices. Used by `fieldcrm-server` and by tests to
create users programmatically (`add_user(engine, "alice", "rep", "pw", teams=["north"])`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from desktop.errors import FieldCRMError
from desktop.schema import Role
from server import audit
from server import tables as t
from server.auth import USERNAME_RE, hash_password
from server.db import write_tx
from server.errors import now_iso


class AdminError(FieldCRMError):
    """The administration command could not be carried out."""


def add_team(engine: sa.Engine, name: str) -> None:
    """Create a team. Raises AdminError if it exists."""
    with write_tx(engine) as conn:
        if conn.execute(sa.select(t.teams.c.name).where(t.teams.c.name == name)).first():
            raise AdminError(f"Team '{name}' already exists.")
        conn.execute(t.teams.insert().values(name=name, created_at=now_iso()))


def add_user(engine: sa.Engine, username: str, role: str | Role, password: str,
             teams: Iterable[str] = ()) -> str:
    """Create a user (teams that do not exist yet are created); returns the user id.
    Raises AdminError for a taken name, an unknown role or an empty password."""
    try:
        role = Role(role)
    except ValueError:
        raise AdminError(f"Unknown role '{role}': use rep, manager, admin, finance "
                         "or director.") from None
    if not USERNAME_RE.match(username) or username != username.strip():
        raise AdminError("A user name is 1-100 printable characters without surrounding spaces.")
    if not password:
        raise AdminError("The password must not be empty.")
    pw_hash = hash_password(password)
    user_id = str(uuid.uuid4())
    with write_tx(engine) as conn:
        if conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).first():
            raise AdminError(f"User '{username}' already exists.")
        conn.execute(t.users.insert().values(id=user_id, username=username, password_hash=pw_hash,
                                             role=role.value, disabled=False, created_at=now_iso()))
        for team in dict.fromkeys(teams):
            if not conn.execute(sa.select(t.teams.c.name).where(t.teams.c.name == team)).first():
                conn.execute(t.teams.insert().values(name=team, created_at=now_iso()))
            conn.execute(t.team_members.insert().values(team=team, user_id=user_id))
    return user_id


def _user_id(conn: sa.Connection, username: str) -> str:
    uid = conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username)).scalar()
    if uid is None:
        raise AdminError(f"No user '{username}'.")
    return str(uid)


def add_to_team(engine: sa.Engine, username: str, team: str) -> None:
    with write_tx(engine) as conn:
        uid = _user_id(conn, username)
        if not conn.execute(sa.select(t.teams.c.name).where(t.teams.c.name == team)).first():
            raise AdminError(f"No team '{team}'.")
        if not conn.execute(sa.select(t.team_members.c.team).where(
                t.team_members.c.team == team, t.team_members.c.user_id == uid)).first():
            conn.execute(t.team_members.insert().values(team=team, user_id=uid))


def remove_from_team(engine: sa.Engine, username: str, team: str) -> None:
    """Take a user out of a team: their devices stop holding the team's book at their
    next sync (desktop.store.visibility.converge_scope). Raises AdminError."""
    with write_tx(engine) as conn:
        uid = _user_id(conn, username)
        gone = conn.execute(t.team_members.delete().where(
            t.team_members.c.team == team, t.team_members.c.user_id == uid)).rowcount
        if not gone:
            raise AdminError(f"{username} is not in team '{team}'.")


def add_region(engine: sa.Engine, name: str, parent: str | None = None) -> None:
    """Add a region to the tree, under `parent` (None: a top region). Raises AdminError
    for a taken name or an unknown parent."""
    name = name.strip()
    if not name:
        raise AdminError("A region needs a name.")
    with write_tx(engine) as conn:
        if conn.execute(sa.select(t.regions.c.name).where(t.regions.c.name == name)).first():
            raise AdminError(f"Region '{name}' exists.")
        if parent and not conn.execute(
                sa.select(t.regions.c.name).where(t.regions.c.name == parent)).first():
            raise AdminError(f"No region '{parent}' (add it first).")
        conn.execute(t.regions.insert().values(name=name, parent=parent or None))


def list_regions(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        regions = conn.execute(sa.select(t.regions).order_by(t.regions.c.name)).all()
        members = conn.execute(
            sa.select(t.user_regions.c.region, t.users.c.username)
            .join(t.users, t.users.c.id == t.user_regions.c.user_id)).all()
    users: dict[str, list[str]] = {}
    for m in members:
        users.setdefault(m.region, []).append(m.username)
    return [{"name": r.name, "parent": r.parent, "users": sorted(users.get(r.name, []))}
            for r in regions]


def set_region(engine: sa.Engine, username: str, region: str | None) -> None:
    """Put a user in a region (None: in none). A manager or director then sees the book of
    every user in that region and the regions under it; devices follow at their next
    sync. Raises AdminError for an unknown user or region."""
    with write_tx(engine) as conn:
        uid = _user_id(conn, username)
        if region and not conn.execute(
                sa.select(t.regions.c.name).where(t.regions.c.name == region)).first():
            raise AdminError(f"No region '{region}' (fieldcrm-server region add).")
        conn.execute(t.user_regions.delete().where(t.user_regions.c.user_id == uid))
        if region:
            conn.execute(t.user_regions.insert().values(user_id=uid, region=region))


def disable_user(engine: sa.Engine, username: str) -> None:
    """Disable a user: every session of theirs ends on its next request."""
    with write_tx(engine) as conn:
        uid = _user_id(conn, username)
        # The refresh tokens stay: a device presenting one is told to wipe (user_disabled)
        # instead of merely "signed out", and the token can never be used again anyway.
        conn.execute(t.users.update().where(t.users.c.id == uid).values(disabled=True))
        audit.record(conn, "user_disabled", actor=audit.CLI_ACTOR, target=f"user:{username}")


def list_users(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.users).order_by(t.users.c.username)).all()
        members = conn.execute(sa.select(t.team_members)).all()
    teams: dict[str, list[str]] = {}
    for m in members:
        teams.setdefault(m.user_id, []).append(m.team)
    return [{"id": r.id, "username": r.username, "role": r.role, "disabled": bool(r.disabled),
             "teams": sorted(teams.get(r.id, [])), "created_at": r.created_at} for r in rows]


def list_devices(engine: sa.Engine, username: str | None = None) -> list[dict[str, Any]]:
    q = (sa.select(t.devices, t.users.c.username)
         .join(t.users, t.users.c.id == t.devices.c.user_id).order_by(t.devices.c.created_at))
    if username is not None:
        q = q.where(t.users.c.username == username)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [{"id": r.id, "user": r.username, "name": r.name, "created_at": r.created_at,
             "last_seen_at": r.last_seen_at, "revoked": r.revoked_at is not None,
             "revoked_at": r.revoked_at, "logged_out": bool(r.logged_out)} for r in rows]


def revoke_device(engine: sa.Engine, device_id: str) -> None:
    """Revoke a device: its sessions end at once and it is told to wipe its data."""
    with write_tx(engine) as conn:
        n = conn.execute(t.devices.update().where(t.devices.c.id == device_id)
                         .values(revoked_at=now_iso())).rowcount
        if n != 1:
            raise AdminError(f"No device '{device_id}'.")
        audit.record(conn, "device_revoked", actor=audit.CLI_ACTOR, target=f"device:{device_id}")
        # Its refresh tokens are kept so that the device, presenting one, learns it must
        # wipe its data (device_revoked); every use of them is refused.
