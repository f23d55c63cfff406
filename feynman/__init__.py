"""Feynman event pipeline: command line, settings and the project-wide error root."""
