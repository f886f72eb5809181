"""Test bench: Bumble radio, bleak backend, virtual proxy and device emulators."""
