"""Chinese and English UI text: a catalog keyed by the English text.

`Translator("zh").tr("Accounts")` -> "客户". Schema labels come from the schema
(`label_en`/`label_zh`). Other UI modules may add their own strings with
`register_catalog({...})` at import time. Where one English word needs different Chinese
in one place (a "Record" button that records sound, not a CRM record), that module
registers its texts under a context, `register_catalog({...}, context="voice note")`,
and translates with `translate("voice note", text)`; the shared catalog is the fallback.
"""

from __future__ import annotations

from typing import Any

from desktop.ui.common.catalog_zh import ZH

_EXTRA: dict[str, str] = {}
_IN_CONTEXT: dict[str, dict[str, str]] = {}


def register_catalog(zh: dict[str, str], context: str | None = None) -> None:
    """Add Chinese texts (keyed by their English text) for a UI module; with a
    `context`, only for `translate(context, ...)`."""
    if context is None:
        _EXTRA.update(zh)
    else:
        _IN_CONTEXT.setdefault(context, {}).update(zh)


def system_language() -> str:
    """"zh" when the system locale is Chinese, else "en"."""
    from PySide6.QtCore import QLocale

    return "zh" if QLocale.system().name().lower().startswith("zh") else "en"


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = "zh" if lang.lower().startswith("zh") else "en"

    def tr(self, text: str, /, **values: Any) -> str:
        out = text
        if self.lang == "zh":
            out = ZH.get(text) or _EXTRA.get(text) or text
        return out.format(**values) if values else out

    def translate(self, context: str, text: str, /, **values: Any) -> str:
        """`tr` with the texts registered under `context` first."""
        if self.lang == "zh":
            zh = _IN_CONTEXT.get(context, {}).get(text)
            if zh is not None:
                return zh.format(**values) if values else zh
        return self.tr(text, **values)

    def choice(self, value: str | None) -> str:
        """A choice value (stage, lifecycle, activity kind) for display."""
        if not value:
            return ""
        en = value.replace("_", " ").capitalize()
        return self.tr(en) if self.lang == "zh" else en
