"""The downstream-benchmark registry (`task.py`, `split.py`, `registry.py`) and the built-in benchmarks, one module
each (`BENCHMARK`: its `Task`, with its SynthHowTo split); `registry.py` registers them.

Imports nothing itself (the registry imports the modules), so `import vttwins.companion.benchmarks` is free.

The built-ins name their evaluators and readers (`vttwins.companion.evaluation.tasks`) and their SynthHowTo
functions (`vttwins.companion.synth`) as "module:function" strings, resolved on first use: `vttwins.companion.config`
imports the registry and the evaluators import `evaluation.config` back (an import would be a cycle), and
`vttwins.companion.synth` sits above this package and reads the registry. A benchmark module outside the package
may pass callables.
"""
