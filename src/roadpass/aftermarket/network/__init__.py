"""Repairers and security-related access: the network of authorised and independent repairers, their SERMI
approvals and personal authorisations, and short-lived credentials for one VIN and one function."""
