"""The status web view: a read model of every task and dead letter, and the page that shows it.

Pure parts (``index``, ``stats``, ``dead_letters``, ``read_model``, ``lag_rows``)
import no Kafka client and are unit-tested alone; ``consumer`` and ``lag`` are
the thin aiokafka adapters; ``routes`` and ``auth`` the HTTP edge.
"""
