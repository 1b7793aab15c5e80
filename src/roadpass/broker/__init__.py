"""The MQTT edge: a Mosquitto broker roadpass starts for itself, its generated configuration and accounts,
and the subscriber that feeds the telematics ingester."""
