"""Voice notes: the window, the recorder with live transcription, the audio decoder."""
