"""The project's Confluent-API schema registry (see `server`) and its compatibility checker (`compat`)."""
