"""Typed settings, read from ``ROADPASS_*`` environment variables (and CLI options that fall back to them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_database_url"]


def default_database_url() -> str:
    """The embedded default: a SQLite file under the user's data directory."""
    data_dir = Path(platformdirs.user_data_dir("roadpass", appauthor=False))
    return f"sqlite:///{data_dir / 'roadpass.sqlite3'}"


class Settings(BaseSettings):
    """Everything roadpass can be told from outside, with its default and what it is for."""

    model_config = SettingsConfigDict(env_prefix="ROADPASS_", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="Deployment kind; production refuses unsafe defaults such as the demo secret key.",
    )
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///FILE (default, WAL mode) or postgresql://USER@HOST/DB.",
    )
    conformance_dir: Path | None = Field(
        default=None,
        description="Folder holding the standards' artefacts (GS1 EPCIS schemas, Battery Pass model). "
        "Default: the conformance folder shipped beside the project checkout.",
    )
    host: str = Field(default="127.0.0.1", description="Address `roadpass serve` binds to.")
    port: int = Field(default=8000, description="Port `roadpass serve` listens on.")
    workers: int = Field(
        default=1, ge=1, le=64,
        description="Server processes `roadpass serve` starts (one per core serves the most requests).",
    )
    secret_key: str = Field(
        default="roadpass-development-only-secret",
        description="Key that signs session cookies and CSRF tokens; must be set outside development.",
    )
    capture_max_events: int = Field(
        default=10_000, description="Most events one capture request may carry (GS1-EPCIS-Capture-Limit)."
    )
    capture_max_bytes: int = Field(
        default=32 * 1024 * 1024,
        description="Largest capture body in bytes (GS1-EPCIS-Capture-File-Size-Limit); larger is refused "
        "before parsing.",
    )
    page_size_default: int = Field(default=100, description="Events per page when perPage is not given.")
    page_size_max: int = Field(default=1000, description="Largest perPage a query may ask for.")
    auth_enabled: bool = Field(
        default=True,
        description="Authenticate callers and apply the access policy; switch off only to measure its cost "
        "(benchmarks): every caller then sees and may do everything, attributed to 'anonymous'.",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        description="How long a resolved API key or session (with its precomputed visibility) is reused "
        "before it is looked up again; revocations in this process take effect at once.",
    )
    session_hours: float = Field(default=12.0, description="How long a sign-in session lasts.")
    api_key_days: int = Field(default=365, description="Default lifetime of a new API key, in days.")
    max_request_bytes: int = Field(
        default=1024 * 1024,
        description="Largest request body outside capture (capture has ROADPASS_CAPTURE_MAX_BYTES); larger "
        "is refused with 413 before it is read.",
    )
    rate_limit_capture_per_minute: int = Field(
        default=600, description="Capture requests (POST /capture, POST /events) one party may make per minute."
    )
    rate_limit_signin_per_minute: int = Field(
        default=10, description="Sign-in attempts per minute from one client address (password guessing)."
    )
    passport_legitimate_interest_roles: list[str] = Field(
        default_factory=lambda: ["repairer", "recycler"],
        description="Party roles that see a battery passport at the legitimate-interest level (Reg. (EU) "
        "2023/1542 Art. 77(2)(b)); authorities see the authority level, everyone else the public one.",
    )
    subscription_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts, besides loopback, that query subscriptions may deliver to (webhook dest, http or "
        "https); any other destination is refused when subscribing.",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == "roadpass-development-only-secret":
            raise ValueError("ROADPASS_SECRET_KEY must be set when ROADPASS_ENVIRONMENT=production")
        return self
