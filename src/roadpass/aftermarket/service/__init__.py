"""Service records (work orders): what a repairer did to a vehicle, its parts captured as EPCIS repair events."""
