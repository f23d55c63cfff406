"""What writes into Kafka from outside: the HTTP API and the publish CLI."""
