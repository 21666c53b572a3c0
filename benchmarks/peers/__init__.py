"""Peer search engines measured beside newsctl; each runs as its own process."""
