"""Ways to run Kafka for development: the Docker Compose stack and the Docker-free local broker."""
