"""The project's Confluent-API schema registry (see `server`, which maps its modules) and its
compatibility checker (`compat`)."""
