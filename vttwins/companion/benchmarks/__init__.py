"""The downstream-benchmark registry (`task.py`, `split.py`, `registry.py`) and the built-in benchmarks, one module
each (`BENCHMARK`: its `Task`, with its SynthHowTo split); `registry.py` registers them.

Imports nothing itself (the registry imports the modules), so `import vttwins.companion.benchmarks` is free.
"""
