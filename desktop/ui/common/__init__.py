"""What every UI feature shares: the app context (store worker, background work,
settings, translation, error display), the main window frame, widgets and formatting."""
