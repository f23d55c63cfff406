"""Domain logic of the task types: plain Python, no Kafka or Faust imports."""
