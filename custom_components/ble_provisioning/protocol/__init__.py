"""Protocol layer: BLE Wi-Fi provisioning clients with no Home Assistant imports.

Sub-packages: :mod:`.blufi` (Espressif BluFi) and :mod:`.bluenet` (the Bluenet daemon).
"""
