"""The console command ``ble-wifi-provision``: scan, provision many devices, status, custom data.

For a Linux PC with a Bluetooth adapter (bleak's BlueZ backend), or any bleak backend given with
``--backend MODULE:FACTORY``. See :mod:`.app` for the commands and ``--help`` for the options.
"""

from .app import main, run_cli

__all__ = ["main", "run_cli"]
