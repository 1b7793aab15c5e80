"""The resolver service: a scanned GS1 Digital Link URI in, the node's answer out (307 or linkset).

It asks the trace record which unit a key names (a VIN makes it a vehicle), the passports whether a
battery has one, master data for names, the compliance technical files for evidence, and the optional
recall and service-history sources; :mod:`roadpass.resolver.links` decides which links the caller sees and
which one a scan lands on. Answers are cached per scan, caller audience and request while the store's
change probe proves nothing was committed since (SQLite's ``data_version``): the QR-scan hot path then
reads nothing at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson

from roadpass.resolver.links import (
    Audience,
    Resolution,
    Subject,
    choose,
    description_file,
    link_header,
    linkset,
    resolve_levels,
)
from roadpass.resolver.ports import (
    ChangeProbe,
    ComplianceDirectory,
    MasterDataNames,
    PassportDirectory,
    RecallSource,
    ServiceHistorySource,
)
from roadpass.resolver.scan import LINKSET_MEDIA, Level, Scan, ScanError, parse_scan, wants_linkset
from roadpass.resolver.vocabulary import Vocabulary, vocabulary
from roadpass.trace.identifiers import GS1_RESOLVER, IdentifierError, epc_pattern_to_canonical_prefix
from roadpass.trace.service import TraceService, UnitNotFound

__all__ = ["Answer", "NotResolved", "ResolverService"]

# Master-data vocabulary types (CBV 2.0 §8) that name a class-level key by itself.
_VOCABULARY_OF_AI = {"01": "EPCClass", "8006": "EPCClass", "8010": "EPCClass", "414": "BusinessLocation",
                     "417": "Party"}
_GTIN_HEAD = len(GS1_RESOLVER) + len("/01/") + 14
# Without a change probe (PostgreSQL), the GTIN -> technical file map is read again after this long.
_FILES_TTL_S = 5.0


class NotResolved(LookupError):
    """The node holds nothing for the scanned key that the caller may see (answered 404)."""


@dataclass(frozen=True)
class Answer:
    """What the node answers: a redirect (``location``) or a linkset (``body``), with its ``Link`` header."""

    status: int
    link: str
    location: str | None = None
    body: bytes | None = None
    media_type: str | None = None

    def headers(self) -> list[tuple[str, str]]:
        """The response headers (``Location``, ``Link``, ``Vary``, ``Content-Type``)."""
        # A scanning web app on another origin reads the Link header and the linkset (CORS, Fetch standard);
        # "*" lets no credentials through. (The resolver standard's clause on CORS: to confirm.)
        out = [("link", self.link), ("vary", "Accept, Accept-Language"), ("access-control-allow-origin", "*"),
               ("access-control-expose-headers", "Link, Location")]
        if self.location is not None:
            out.append(("location", self.location))
        if self.media_type is not None:
            out.append(("content-type", self.media_type))
        return out

    @cached_property
    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as an ASGI server sends them, ``Content-Length`` included (encoded once)."""
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers()]
        out.append((b"content-length", str(len(self.body or b"")).encode()))
        return out


class ResolverService:
    """GS1-Conformant resolution of the keys this node's parties issue (see module docstring)."""

    def __init__(
        self, trace: TraceService, passports: PassportDirectory, names: MasterDataNames,
        compliance: ComplianceDirectory, *, changes: ChangeProbe, root: str | None = None,
        recalls: RecallSource | None = None, service_history: ServiceHistorySource | None = None,
        vocab: Vocabulary | None = None, cache_size: int = 100_000,
    ) -> None:
        self.trace = trace
        self.passports = passports
        self.names = names
        self.compliance = compliance
        self.changes = changes
        self.root = root.rstrip("/") if root else None
        self.recalls = recalls
        self.service_history = service_history
        self.vocab = vocab or vocabulary()
        self._cache_size = cache_size
        self._answers: dict[tuple[Any, ...], tuple[int, Answer]] = {}
        self._files: tuple[int | None, float, dict[str, str]] | None = None

    # ------------------------------------------------------------------------------------ answers

    def root_for(self, request_root: str) -> str:
        """The resolver root links are made on: ``ROADPASS_RESOLVER_BASE``, else the request's own."""
        return self.root or request_root.rstrip("/")

    def cached_answer(self, key: tuple[Any, ...]) -> Answer | None:
        """An answer computed before for ``key`` if provably current (no store access beyond the probe)."""
        found = self._answers.get(key)
        if found is None:
            return None
        version = self.changes.data_version()
        return found[1] if version is not None and found[0] == version else None

    def answer_key(
        self, path: str, audience: Audience, request_root: str, *, link_type: str | None = None,
        accept: str | None = None, languages: tuple[str, ...] = (),
    ) -> tuple[Any, ...]:
        """What an answer depends on: ``(path, audience, root, link type term, linkset?, languages)``.

        Raises :class:`ScanError` naming ``linkType`` for a link type this resolver does not know.
        """
        want_linkset = link_type in ("linkset", "all") or (link_type is None and wants_linkset(accept))
        term: str | None = None
        if link_type is not None and not want_linkset:
            term = self.vocab.term_of(link_type)
            if term is None:
                raise ScanError("linkType", f"{link_type!r} is not a link type this resolver knows "
                                f"(use {self.vocab.prefix}… of the GS1 Web Vocabulary, or linkset)")
        return path, audience, self.root_for(request_root), term, want_linkset, languages

    def answer(
        self, path: str, audience: Audience, request_root: str, *, link_type: str | None = None,
        accept: str | None = None, languages: tuple[str, ...] = (),
    ) -> Answer:
        """The answer to a scan of ``path``; raises :class:`ScanError` (400) or :class:`NotResolved` (404)."""
        key = self.answer_key(path, audience, request_root, link_type=link_type, accept=accept, languages=languages)
        version = self.changes.data_version()
        if version is not None:
            found = self._answers.get(key)
            if found is not None and found[0] == version:
                return found[1]
        _, _, root, term, want_linkset, _ = key
        answer = self._render(self.resolution(path, audience, root), root, term, want_linkset, languages)
        if version is not None:
            if len(self._answers) >= self._cache_size:
                self._answers.clear()
            self._answers[key] = (version, answer)
        return answer

    def _render(self, resolution: Resolution, root: str, term: str | None, want_linkset: bool,
                languages: tuple[str, ...]) -> Answer:
        header = link_header(resolution, self.vocab, languages)
        if want_linkset:
            body = orjson.dumps(linkset(resolution, self.vocab, languages))
            context = f'<{self.vocab.linkset_context}>; rel="http://www.w3.org/ns/json-ld#context"; ' \
                      'type="application/ld+json"'
            return Answer(200, f"{header}, {context}", body=body, media_type=LINKSET_MEDIA)
        target = choose(resolution, term, languages)
        if target is None:
            raise NotResolved(f"no link for {resolution.anchor} that you may see")
        # GS1-Conformant Resolver Standard 1.2.0: a temporary redirect, so that the links may change. A
        # target on the requested host itself is given as a path (RFC 9110 §10.2.2 allows a relative
        # Location), so the answer holds behind any proxy; on a configured root it stays absolute.
        location = target.href
        if self.root is None and location.startswith(root + "/"):
            location = location[len(root):]
        return Answer(307, header, location=location)

    def resolution(self, path: str, audience: Audience, root: str) -> Resolution:
        """The links the caller sees for a scan of ``path``; raises ScanError or NotResolved."""
        scan = parse_scan(path)
        found = resolve_levels(self.subjects(scan), audience, root, self.vocab)
        if found is None or (not found.links and found.default is None):
            raise NotResolved(f"nothing is known here as {GS1_RESOLVER}{path}")
        return found

    def path_of_vin(self, vin: str) -> str:
        """The canonical Digital Link path of the vehicle with this VIN; NotResolved if none is known."""
        try:
            unit = self.trace.resolve(vin)
        except (UnitNotFound, IdentifierError) as exc:
            raise NotResolved(f"no vehicle is known with VIN {vin!r}") from exc
        if unit.vin is None or not unit.key.startswith(GS1_RESOLVER + "/"):
            raise NotResolved(f"no vehicle is known with VIN {vin!r}")
        return unit.key[len(GS1_RESOLVER):]

    def titled(self, resolution: Resolution, languages: tuple[str, ...]) -> list[dict[str, str]]:
        """The resolution's links with their titles in the caller's language (for pages and the CLI)."""
        return [{"linkType": self.vocab.prefix + link.term, "title": self.vocab.types[link.term].title(languages)[1],
                 "href": link.href, "type": link.media} for link in resolution.links]

    def description(self, request_root: str) -> dict[str, Any]:
        """The resolver description file (``/.well-known/gs1resolver``)."""
        return description_file(self.root_for(request_root), self.vocab)

    # ------------------------------------------------------------------------------------ subjects

    def subjects(self, scan: Scan) -> list[Subject]:
        """The levels of ``scan`` the node knows, most specific first, with what each source holds."""
        out: list[Subject] = []
        for level in scan.levels:
            subject = self._subject(scan.key.ai, level)
            if subject is not None:
                out.append(subject)
        return out

    def _subject(self, ai: str, level: Level) -> Subject | None:
        vocabulary_type = _VOCABULARY_OF_AI.get(ai)
        if level.level == "class" or (level.level == "key" and ai in ("414", "417")):
            name = self.names.names([level.key]).get(level.key)
            if name is None or vocabulary_type is None:
                return None
            kind = "product" if vocabulary_type == "EPCClass" else "location"
            return Subject(kind, level, name=name, vocabulary=vocabulary_type, product=self._file_of(level.key))
        try:
            unit = self.trace.resolve(level.key)
        except (UnitNotFound, IdentifierError):
            return None
        name = self.names.names([level.key]).get(level.key)
        product = self._file_of(level.key)
        if level.level == "lot":
            return Subject("lot", level, name=name, product=product)
        recalls = self._open_recalls(unit.vin or unit.key)
        if unit.vin is not None:
            service = self.service_history is not None and bool(self.service_history.history(unit.vin, limit=1))
            return Subject("vehicle", level, name=name, vin=unit.vin, product=product, open_recalls=recalls,
                           has_service=service)
        try:
            passport_id: str | None = self.passports.resolve(unit.key)
        except LookupError:
            passport_id = None
        return Subject("battery" if passport_id else "unit", level, name=name, passport_id=passport_id,
                       product=product, open_recalls=recalls)

    def _open_recalls(self, key: str) -> tuple[str, ...] | None:
        if self.recalls is None:
            return None
        return tuple(r.title for r in self.recalls.open_recalls_for(key) if not r.remedied)

    def _file_of(self, key: str) -> str | None:
        """The compliance technical file a GTIN-based key's items are made under (a component's
        ``trace_class`` names the GTIN, its ``technical_file`` the file)."""
        if not key.startswith(GS1_RESOLVER + "/01/"):
            return None
        version = self.changes.data_version()
        now = time.monotonic()
        entry = self._files
        if entry is None or (now - entry[1] > _FILES_TTL_S if version is None else entry[0] != version):
            entry = self._files = (version, now, self._technical_files())
        return entry[2].get(key[:_GTIN_HEAD])

    def _technical_files(self) -> dict[str, str]:
        """``{canonical GTIN: technical file}`` from every file's components."""
        files: dict[str, str] = {}
        for row in self.compliance.products():
            for component in row.file.components:
                if component.trace_class and component.technical_file:
                    try:
                        prefix = epc_pattern_to_canonical_prefix(component.trace_class)
                    except IdentifierError:
                        continue
                    if prefix is not None:
                        files.setdefault(prefix, component.technical_file)
        return files
