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
    resolver_base: str | None = Field(
        default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="This node's GS1 resolver root (e.g. https://dpp.example.com): passports' QR codes carry "
        "it, so printed codes resolve to this node, and linksets name it. Unset: QR codes carry the address "
        "`roadpass serve` listens on (http://HOST:PORT) and links are made on the host a request names.",
    )
    subscription_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts, besides loopback, that query subscriptions may deliver to (webhook dest, http or "
        "https); any other destination is refused when subscribing.",
    )
    delivery_worker: Literal["process", "thread"] = Field(
        default="process",
        description="Where `roadpass serve` delivers webhook subscriptions: 'process', a worker process of its "
        "own beside the server (capture keeps its interpreter to itself), or 'thread', inside each server process.",
    )

    telematics_broker: bool = Field(
        default=True,
        description="Start Mosquitto and the telematics ingester beside `roadpass serve` (docs/telematics.md).",
    )
    mqtt_host: str = Field(default="127.0.0.1", description="Address roadpass's Mosquitto listens on (loopback).")
    mqtt_port: int = Field(default=18830, description="Port roadpass's Mosquitto listens on.")
    telematics_dir: Path | None = Field(
        default=None,
        description="Folder of the broker's generated configuration, accounts and persistence. Default: "
        "'mosquitto' in the user's data directory.",
    )
    telematics_raw_retention_days: int = Field(
        default=90, ge=1, description="Raw telematics samples older than this are deleted; roll-ups stay."
    )
    telematics_rollups: list[Literal["hour", "day"]] = Field(
        default=["hour", "day"], description="Roll-up grains of telematics samples kept."
    )
    telematics_health_cadence_hours: float = Field(
        default=24.0, gt=0,
        description="How much signal time a pack's passport health update covers: its state of health, cycles, "
        "throughput, temperatures and negative events are written (and ledgered) once per this many hours of "
        "its signals (docs/telematics-health.md).",
    )
    telematics_simulate_vehicles: int = Field(
        default=6, ge=0,
        description="Demo fleet vehicles `roadpass serve` (so `make run`) drives through the broker once it runs; "
        "0: no simulation.",
    )
    telematics_simulate_minutes: float = Field(
        default=10.0, gt=0, description="How long (wall-clock minutes) the simulation beside `roadpass serve` runs."
    )
    telematics_simulate_speedup: float = Field(
        default=1440.0, gt=0,
        description="Simulated time per wall-clock time of the simulation beside `roadpass serve` (1440: a day a "
        "minute); it replays the fleet's recent past up to the moment it started.",
    )

    region: str | None = Field(
        default=None,
        description="The region this node runs in (a key of regions/regions.yaml, e.g. eu-central); unset: a node "
        "outside the residency model (docs/regions.md).",
    )
    node_id: str | None = Field(default=None, description="This node's name among its peers (default: its region).")
    pseudonym_key: str | None = Field(
        default=None,
        description="The region's pseudonymisation key (hex, at least 32 bytes); never sent. Required in production "
        "when ROADPASS_REGION is set; otherwise one is generated and kept in the node's data directory.",
    )
    transfer_policy: Path | None = Field(
        default=None,
        description="The transfer policy file (YAML); default: the shipped regions/transfer-policies.yaml. Read "
        "again when it changes: the next transfer follows it.",
    )
    peers: list[dict[str, str]] = Field(
        default_factory=list,
        description='The peer nodes, JSON: [{"node": "home", "region": "cn-east", "url": "https://home.example"}]; '
        "a subscription delivering under a peer's url carries only what the transfer policy allows.",
    )

    @property
    def resolver_root(self) -> str:
        """The root passports' QR codes carry: ``resolver_base``, or this node as ``roadpass serve`` binds it
        (a new deployment's printed codes resolve to itself; codes printed elsewhere keep their own root)."""
        if self.resolver_base:
            return self.resolver_base
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment == "production" and self.secret_key == "roadpass-development-only-secret":
            raise ValueError("ROADPASS_SECRET_KEY must be set when ROADPASS_ENVIRONMENT=production")
        if self.environment == "production" and self.region and not self.pseudonym_key:
            raise ValueError("ROADPASS_PSEUDONYM_KEY must be set when ROADPASS_REGION is set in production")
        return self
