"""Mounts the search-index progress line (desktop.ui.index_progress) in the main window."""

from desktop.ui.index_progress import install

__all__ = ["install"]
