"""roadpass trace/epcis."""
