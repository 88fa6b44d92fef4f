"""The one exception root of FieldCRM.

A `FieldCRMError`'s text is written for the user and shown as is; anything else that
escapes is a bug, logged and shown as a generic error.
"""

from __future__ import annotations


class FieldCRMError(Exception):
    """Something went wrong in FieldCRM."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message())

    @classmethod
    def default_message(cls) -> str:
        """The class's docstring as one line (docstrings wrap; messages must not)."""
        return " ".join((cls.__doc__ or "").split())

    @property
    def message(self) -> str:
        return str(self)


class ValidationError(FieldCRMError):
    """A value does not fit its field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(FieldCRMError):
    """That record does not exist (or was deleted)."""


class StoreError(FieldCRMError):
    """The local store could not complete the operation."""


class StoreOpenError(StoreError):
    """The local store cannot be opened."""


class StoreTooNewError(StoreOpenError):
    """The store was written by a newer FieldCRM; update the app to open it."""


class StoreDamagedError(StoreOpenError):
    """The store file is damaged and was not opened."""


class StoreBusyError(StoreError):
    """The store is locked by another program; close it and try again."""


class DiskFullError(StoreError):
    """The disk is full: nothing was saved. Free some space and save again."""


class SyncError(FieldCRMError):
    """Synchronisation failed."""


class AuthError(SyncError):
    """The server did not accept these credentials."""


class CaptureError(FieldCRMError):
    """The file could not be read."""


class Cancelled(FieldCRMError):
    """The operation was cancelled."""
