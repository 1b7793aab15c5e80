"""The aftermarket network: repairers and their security-related access (SERMI), service and warranty,
genuine parts, recall campaigns."""
