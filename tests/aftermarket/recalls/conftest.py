"""The web tests' served demo site and browser profile, for the campaign page's browser tests."""

from web.conftest import browser_context, site

__all__ = ["browser_context", "site"]
