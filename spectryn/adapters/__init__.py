"""Tracker adapters by tracker name: ``spectryn.adapters.bitbucket``."""
