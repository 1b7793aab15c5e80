"""Regional nodes: what is personal, what may cross which border (as data), pseudonyms, and what crosses."""
