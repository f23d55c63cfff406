"""Settings and errors every other package builds on; imports no other package of the project."""
