"""Sync errors, each a message for the user. Offline is not a failure the user must act
on: the engine shows it as a state and keeps the changes for later."""

from __future__ import annotations

import httpx

from desktop.errors import AuthError, SyncError


class OfflineError(SyncError):
    """The sync server cannot be reached right now. Your changes are kept on this
    computer and will be sent when the connection is back."""


class ServerNotAnsweringError(OfflineError):
    """The sync server is not answering (it accepted the connection, then went silent).
    Your changes are kept on this computer; FieldCRM will try again shortly."""


def offline_error(exc: Exception) -> OfflineError:
    """The error for a failed request: a server that stopped answering mid-request (a
    read or write timeout) is told apart from one that cannot be reached."""
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return ServerNotAnsweringError()
    return OfflineError()


class ServerBusyError(SyncError):
    """The sync server had a problem answering. FieldCRM will try again shortly."""


class UpdateRequired(SyncError):
    """This version of FieldCRM is too old for the sync server: install the new version.
    Your unsent changes are kept on this computer and are sent once you have updated."""

    def __init__(self, message: str | None = None, *, minimum: str | None = None,
                 latest: str | None = None, download_url: str | None = None) -> None:
        super().__init__(message)
        self.minimum = minimum
        self.latest = latest
        self.download_url = download_url


class SignedOutError(AuthError):
    """You are signed out of the sync server. Sign in again to resume syncing; your
    changes are kept on this computer."""


class WipeRequired(AuthError):
    """The server ended this device's access (revoked device, disabled user or logout):
    the local data is removed from this computer."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class KeyringError(AuthError):
    """The system keychain is not available, so the sign-in cannot be kept. Check that
    your desktop keyring (Keychain, Credential Manager, Secret Service) is unlocked."""
