"""Warranty: coverage per market and product (data), claims checked against the genealogy, their workflow."""
