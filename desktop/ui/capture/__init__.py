"""Capture: contract photos read by OCR (`contract/`), voice notes (`voice/`) and the
review of a parsed note (`note/`), from the Capture menu."""

from __future__ import annotations

from desktop.ui.capture.mount import install, open_contract_capture, open_voice_note

__all__ = ["install", "open_contract_capture", "open_voice_note"]
