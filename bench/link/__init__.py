"""Link profiles of the bench: how a BLE connection behaves between the radio and Home Assistant.

* :mod:`bench.link.air` — the air between the Bumble controllers: connection events (latency per
  ATT exchange) and link drops, for every connection path;
* :mod:`bench.link.profiles` — the named profiles (``ideal``, ``bluez-local``, ``esphome-proxy``)
  and their registry;
* :mod:`bench.link.bluez` — the bleak client with the semantics of bleak's BlueZ backend;
* :mod:`bench.link.ha` — how each profile is attached to Home Assistant's bluetooth manager;
* :mod:`bench.link.fixtures` — the pytest fixtures (``link_profile``, ``link_scanner``).
"""
