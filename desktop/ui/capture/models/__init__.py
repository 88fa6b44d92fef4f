"""Speech models: choose or download the Vosk model voice notes use (a Settings tab and a
dialog of the voice note window)."""
