"""The GS1 Digital Link resolver: which links a scanned key answers with, and for whom (GS1-Conformant
Resolver Standard)."""
