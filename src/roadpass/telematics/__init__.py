"""roadpass telematics."""
