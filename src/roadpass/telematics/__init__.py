"""Connected vehicles: COVESA VSS signals over MQTT, battery health from them, software updates (UN R156)."""
