"""Device emulators for the bench: an ESP32 running BluFi and the Bluenet daemon."""
