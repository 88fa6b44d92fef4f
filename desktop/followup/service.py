"""One Scheduler per open store, made on the store's own thread.

UI ops and the CLI call `scheduler_for(store)`; the first call creates the reminder
table and indexes and subscribes the scheduler to the store's change events, so every
committed edit (local or synced) updates the reminders of the records it touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.followup.scheduler import Scheduler
from desktop.followup.settings import FollowupSettings, load_settings, save_settings

if TYPE_CHECKING:
    from desktop.followup.clock import Clock
    from desktop.store import Store

_ATTR = "_followup_scheduler"


def scheduler_for(store: Store, clock: Clock | None = None, lang: str = "en") -> Scheduler:
    sched: Scheduler | None = getattr(store, _ATTR, None)
    if sched is None:
        sched = Scheduler(store, clock, lang=lang)
        store.on_change(sched.on_changes)
        setattr(store, _ATTR, sched)
    sched.lang = lang
    return sched


def apply_settings(store: Store, settings: FollowupSettings) -> FollowupSettings:
    """Save the personal follow-up settings and use them from now on (with the admin's
    follow-up rule, desktop.followup.rule); the next pass applies them."""
    from desktop.followup.clock import SystemClock

    save_settings(store, settings)
    settings = load_settings(store)  # the admin's rule, not the form's copy of it
    sched: Scheduler | None = getattr(store, _ATTR, None)
    if sched is not None:
        sched.settings = settings
        sched.rules.s = settings
        if isinstance(sched.clock, SystemClock):
            sched.clock.zone_name = settings.time_zone
        sched.full_pass()
    return settings
