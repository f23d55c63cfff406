"""The Faust app: agents that consume the topics, tables, and the worker's web routes."""
