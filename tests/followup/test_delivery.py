"""Native notifications through the real desktop-notifier D-Bus backend. Only the OS
side is faked: a private session bus (the system's dbus-daemon) with a stand-in for the
desktop's notification server (org.freedesktop.Notifications)."""

# D-Bus signatures are written as annotations ("as", "a{sv}"): dbus_fast reads them.
# ruff: noqa: F722, F821, UP037
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal

from desktop.followup.delivery import NativeNotifier
from desktop.followup.scheduler import Notice


class FakeNotificationServer(ServiceInterface):
    def __init__(self) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.shown: list[dict[str, Any]] = []

    @method()
    def GetCapabilities(self) -> "as":  # type: ignore[name-defined]
        return ["actions", "body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # type: ignore[name-defined]
        return ["fake", "test", "1", "1.2"]

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s",  # type: ignore[name-defined]
               summary: "s", body: "s", actions: "as", hints: "a{sv}",  # type: ignore[name-defined]
               expire_timeout: "i") -> "u":  # type: ignore[name-defined]
        self.shown.append({"app": app_name, "summary": summary, "body": body,
                           "actions": actions, "urgency": hints["urgency"].value})
        return len(self.shown)

    @method()
    def CloseNotification(self, nid: "u"):  # type: ignore[name-defined, no-untyped-def]
        return None

    @signal()
    def ActionInvoked(self, nid: int = 0, key: str = "") -> "us":  # type: ignore[name-defined]
        return [nid, key]

    @signal()
    def NotificationClosed(self) -> "uu":  # type: ignore[name-defined]
        return [0, 0]


@pytest.fixture
def session_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    daemon = shutil.which("dbus-daemon")
    assert daemon, "dbus-daemon is missing: apt-get install dbus-daemon (needed for this test)"
    proc = subprocess.Popen([daemon, "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address, "dbus-daemon did not start"
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address
    finally:
        proc.terminate()
        proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_reminder_reaches_the_os_and_its_buttons_come_back(session_bus: str) -> None:
    pressed: list[tuple[str, tuple[str, ...]]] = []

    async def scenario() -> FakeNotificationServer:
        server = FakeNotificationServer()
        bus = await MessageBus(bus_address=os.environ["DBUS_SESSION_BUS_ADDRESS"]).connect()
        bus.export("/org/freedesktop/Notifications", server)
        await bus.request_name("org.freedesktop.Notifications")
        notifier = NativeNotifier(lambda action, keys: pressed.append((action, keys)), lang="zh")
        task_notice = Notice("任务到期：回访王总", "2026-06-10 09:30", ("task:1:x",), False, False,
                             "activity", "1", ("task_due",))
        group = Notice("离开期间有 6 条提醒", "…", ("a", "b"), True, True, kinds=("task_due",))
        assert await notifier.show(task_notice)
        assert await notifier.show(group)
        server.ActionInvoked(1, "snooze")  # the rep presses "snooze" on the first one
        server.ActionInvoked(2, "open")
        for _ in range(100):
            if len(pressed) == 2:
                break
            await asyncio.sleep(0.01)
        notifier.close()
        bus.disconnect()
        await asyncio.sleep(0.05)
        return server

    server = asyncio.run(scenario())
    first, second = server.shown
    assert first["summary"] == "任务到期：回访王总" and first["app"] == "FieldCRM"
    assert first["actions"][2:] == ["open", "打开", "snooze", "稍后提醒（1 小时）",
                                    "done", "标记完成"]
    assert first["urgency"] == 1 and second["urgency"] == 2
    assert second["actions"][2:] == ["open", "查看全部", "snooze", "全部稍后提醒"]
    assert pressed == [("snooze", ("task:1:x",)), ("open", ("a", "b"))]


def test_no_notification_service_means_fall_back(session_bus: str) -> None:
    notifier = NativeNotifier(lambda *_: None)
    notice = Notice("Task due: x", "", ("k",), False, False, kinds=("task_due",))

    async def scenario() -> bool:
        shown = await notifier.show(notice)
        notifier.close()
        await asyncio.sleep(0.05)
        return shown

    assert asyncio.run(scenario()) is False
