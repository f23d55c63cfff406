"""``feynman bench compare``: this pipeline against the usual ways to run background work.

Every system sits behind :class:`~benchmarks.compare.systems.base.System`
(start a worker, submit jobs, drain completions, kill and restart the worker);
each workload in ``workloads/`` drives any system through that interface, and
``report.py`` turns the measurements into docs/benchmarks.md and its plots.
"""
