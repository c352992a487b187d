"""The X platform: XPlatform (platform.py) and its login helpers (login.py)."""
