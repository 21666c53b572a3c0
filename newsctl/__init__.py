"""newsctl: an archive manager for Jekyll-style archives of Chinese news posts."""

__version__ = "0.1.0"
