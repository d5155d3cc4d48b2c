"""Tests of the state store (syncer/state)."""
