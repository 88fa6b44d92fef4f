"""Contract capture: the capture window, the camera dialog, the review of read fields."""
