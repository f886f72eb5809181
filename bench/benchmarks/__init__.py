"""Benchmarks on the bench (figures, never tests): ``scripts/bench`` (:mod:`.cli`).

* :mod:`.cli` — the command: sections, profiles, one table and one JSON report;
* :mod:`.harness` — the run's context (commit, leg, load), the JSON report, a stall meter,
  a radio with one device;
* :mod:`.recorder` and :mod:`.timeline` — what crossed the air, and who kept the link waiting;
* :mod:`.limits` — the physical limit of each protocol under the link model;
* :mod:`.devices` — the emulated devices the benchmarks use;
* one module per figure: :mod:`.provisioning` (P1), :mod:`.stall` (P2), :mod:`.custom_data`
  (P3), :mod:`.engine` (P4 without Home Assistant), :mod:`.outcome` (P6), :mod:`.fleet_move`,
  :mod:`.soak`; :mod:`.ha_scenarios` with :mod:`.ha_plugin` (P1 on ``esphome-proxy``, P4 and P5
  through Home Assistant, in a child pytest); :mod:`.pyblufi_peer` (PyPI pyblufi, fetched at run
  time); :mod:`.link` (round trips per profile, ``python -m bench.benchmarks.link``);
* :mod:`.quiet` — bumble's per-packet debug strings not built while nobody logs them;
* :mod:`.blufi_crypto` — the BluFi client's DH cost (CPU, GIL share, loop stalls), run alone with
  ``python -m``.
"""
