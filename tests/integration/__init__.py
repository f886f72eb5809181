"""Tests of the Home Assistant layer, driven through the bench (virtual proxy + emulators)."""
