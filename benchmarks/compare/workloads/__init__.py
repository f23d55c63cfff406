"""One module per workload; each drives any :class:`~benchmarks.compare.systems.base.System`."""
