"""Genuine parts: is this serial known, whose company prefix issued it, where is it fitted now, is it under
an open recall or reported stolen — answered in milliseconds and logged for the maker."""
