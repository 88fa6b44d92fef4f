"""The app's delivery path for real: the scheduler ticks on the store worker, the notice
goes through desktop-notifier's D-Bus backend on a qasync loop (the Qt event loop) to a
stand-in notification server on a private session bus (the only fake: the OS side), and
a button pressed there snoozes the reminder in the store."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from dbus_fast.aio import MessageBus

from tests.followup.test_delivery import FakeNotificationServer, session_bus
from tests.ui.followup.test_widgets import seed

__all__ = ["session_bus"]  # the fixture


def test_notice_reaches_the_os_and_snooze_comes_back(qapp: Any, make_ctx: Any,
                                                     session_bus: str) -> None:
    import qasync

    from desktop.followup.service import scheduler_for
    from desktop.ui.followup.notify import FollowupNotifier

    ctx = make_ctx("en")
    ctx.run_and_wait(seed)
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    fell: list[Any] = []

    async def until(cond: Any, seconds: float = 10) -> None:
        for _ in range(int(seconds / 0.02)):
            if cond():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("timed out")

    async def scenario() -> tuple[FakeNotificationServer, dict[str, str]]:
        server = FakeNotificationServer()
        bus = await MessageBus(bus_address=os.environ["DBUS_SESSION_BUS_ADDRESS"]).connect()
        bus.export("/org/freedesktop/Notifications", server)
        await bus.request_name("org.freedesktop.Notifications")
        notifier = FollowupNotifier(ctx)
        notifier.fell_back.connect(fell.append)
        notifier.start()  # full pass and first tick on the worker; the notice goes out here
        await until(lambda: server.shown)
        server.ActionInvoked(1, "snooze")
        states: dict[str, str] = {}

        def snoozed() -> bool:
            states.update(ctx.run_and_wait(
                lambda s: {p.key: p.state for p in scheduler_for(s).all_reminders()}))
            return "snoozed" in states.values()

        await until(snoozed)
        notifier.stop()
        bus.disconnect()
        await asyncio.sleep(0.05)
        return server, states

    try:
        server, states = loop.run_until_complete(scenario())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    (shown,) = server.shown
    assert shown["summary"].endswith("reminders while you were away") and fell == []
    assert shown["actions"][2:] == ["open", "Show all", "snooze", "Snooze all"]
    assert set(states.values()) >= {"snoozed"} and "delivered" not in states.values()
