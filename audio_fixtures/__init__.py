"""Dutch caller utterances the project generates itself (see generate.py)."""
