"""The built-in downstream benchmarks, one module each (`BENCHMARK`: its `Task`); `registry.py` registers them.

Imports nothing itself (the registry imports the modules), so `import vttwins.companion.evaluation.benchmarks` is free.
"""
