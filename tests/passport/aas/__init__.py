"""Tests of the battery passport as an Asset Administration Shell (IDTA 02035)."""
