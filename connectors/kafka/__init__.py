"""The Kafka edge: the Avro wire-format codec over the schema registry, the event publisher, the
topic-tail reader and the consumer settings every process shares."""
