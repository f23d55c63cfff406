"""One adapter per compared system, all behind :class:`base.System`."""
