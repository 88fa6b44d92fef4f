"""Native desktop notifications through desktop-notifier (Qt-free, asyncio).

The caller runs `NativeNotifier.show()` on an asyncio loop (in the app: the qasync loop,
see desktop/ui/followup/notify.py). `show()` returns False when the OS did not take the
notification (no notification service, headless session, unsigned macOS build), so the
caller can fall back to the tray icon. The in-app notification centre lists every
reminder regardless.

Buttons: open the record, snooze, mark done. A grouped notice offers "open" (the
notification centre) and "snooze all". Presses come back as `on_action(action, keys)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from desktop.followup.scheduler import Notice

log = logging.getLogger(__name__)

APP_NAME = "FieldCRM"
ActionHandler = Callable[[str, tuple[str, ...]], Any]

LABELS = {
    "en": {"open": "Open", "snooze": "Snooze 1 h", "done": "Mark done", "snooze_all": "Snooze all",
           "open_all": "Show all"},
    "zh": {"open": "打开", "snooze": "稍后提醒（1 小时）", "done": "标记完成",
           "snooze_all": "全部稍后提醒", "open_all": "查看全部"},
}


class NativeNotifier:
    def __init__(self, on_action: ActionHandler, lang: str = "en",
                 app_name: str = APP_NAME) -> None:
        from desktop_notifier import DesktopNotifier

        self.on_action = on_action
        self.lang = "zh" if lang.startswith("zh") else "en"
        self._notifier = DesktopNotifier(app_name=app_name, app_icon=None)

    def _buttons(self, notice: Notice) -> tuple[Any, ...]:
        from desktop_notifier import Button

        t = LABELS[self.lang]
        keys = notice.keys

        def press(action: str) -> Callable[[], None]:
            return lambda: self.on_action(action, keys)

        if notice.grouped:
            return (Button(t["open_all"], press("open"), "open"),
                    Button(t["snooze_all"], press("snooze"), "snooze"))
        out = [Button(t["open"], press("open"), "open"),
               Button(t["snooze"], press("snooze"), "snooze")]
        if "task_due" in notice.kinds:
            out.append(Button(t["done"], press("done"), "done"))
        return tuple(out)

    async def show(self, notice: Notice) -> bool:
        """Send `notice`; True when the OS notification service accepted it."""
        from desktop_notifier import Notification, Urgency

        dispatched: list[bool] = []
        note = Notification(
            notice.title, notice.body or notice.title,
            urgency=Urgency.Critical if notice.urgent else Urgency.Normal,
            buttons=self._buttons(notice),
            on_dispatched=lambda: dispatched.append(True),
            on_clicked=lambda: self.on_action("open", notice.keys),
            thread="fieldcrm-reminders")
        try:
            await self._notifier.send_notification(note)
        except Exception:  # the OS boundary: any failure means "use the fallback"
            log.warning("desktop notification failed", exc_info=True)
            return False
        return bool(dispatched)

    def close(self) -> None:
        """Drop the connection to the notification service (at exit)."""
        bus = getattr(self._notifier._backend, "bus", None)
        if bus is not None:
            bus.disconnect()
