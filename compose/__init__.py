"""Ways to run the pipeline locally: the Docker Compose stack, the Docker-free broker, and child processes."""
