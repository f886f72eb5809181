"""``python -m ble_wifi_provisioning.cli``."""

from .app import main

main()
