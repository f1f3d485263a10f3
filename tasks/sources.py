"""Sources as configuration: a YAML file naming what to scrape, where to, how politely and when.

A sources file looks like this (``examples/sources.yaml`` is a complete one)::

    defaults:                      # merged into every source (mappings merge key by key)
      out: /data/pagescrub-out
      politeness: {per_host_delay: 1.0}
    sources:
      - name: coast-times
        kind: sitemap              # urls | sitemap | feed | saved
        sitemaps: [https://coast-times.example/sitemap.xml]
        schedule: {cron: "0 6 * * *", timezone: Europe/Madrid}
        tags: [news]

``load_sources`` parses it with line information, validates it with the
pydantic models below and raises ``SourcesError`` listing every problem as
``file:line:column: field: message``, the line being the one of the offending
value (or of the mapping that lacks a required field). Unknown keys are
errors, so a typo never silently falls back to a default.

``scrape_parameters`` turns a source into the ``scrape`` flow's parameters
(plain JSON values, so they can be a deployment's parameters). Relative
paths in the file (``paths``, ``file``, ``url_manifest``, a local ``out``) are
resolved against the sources file's folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .fetch import FETCH_BATCH_SIZE
from .load import DEFAULT_MAX_BYTES

__all__ = [
    "KINDS",
    "Politeness",
    "Problem",
    "S3Settings",
    "Schedule",
    "Source",
    "SourcesError",
    "SourcesFile",
    "load_sources",
    "parse_duration",
    "parse_sources",
    "scrape_parameters",
]

KINDS = ("urls", "sitemap", "feed", "saved")
DATED_KINDS = ("sitemap", "feed")
"""Kinds whose entries carry dates, so a window (``since``/``until``) selects pages."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def parse_duration(value: Any) -> timedelta:
    """``1d``, ``12h``, ``1h30m``, ``90s``, ``2w``, a number of seconds, or a timedelta."""
    if isinstance(value, timedelta):
        found = value
    elif isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    elif isinstance(value, (int, float)):
        found = timedelta(seconds=value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if not text or "".join(n + u for n, u in parts).lower() != text.lower():
            raise ValueError(f"not a duration: {value!r} (use e.g. 30m, 6h, 1d, 1w, 1h30m)")
        found = timedelta(seconds=sum(float(n) * _UNITS[u.lower()] for n, u in parts))
    else:
        raise ValueError(f"not a duration: {value!r}")
    if found <= timedelta(0):
        raise ValueError(f"a duration must be positive, not {value!r}")
    return found


def _duration(value: Any) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _as_list(value: Any) -> Any:
    """A single string where a list is expected is a list of one."""
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_as_list)]


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("url", "not an http(s) URL: '{url}'", {"url": url})
    return url.strip()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Politeness(_Model):
    """How the fetcher treats sites; the same settings as ``pagescrub run``'s politeness options."""

    user_agent: str | None = Field(None, min_length=1)
    per_host_concurrency: int = Field(2, ge=1, le=64)
    per_host_delay: float = Field(1.0, ge=0)
    global_concurrency: int = Field(16, ge=1, le=1024)
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0, le=20)
    retry_backoff: float = Field(1.0, ge=0)
    obey_robots: bool = True
    allow_private_addresses: bool = False
    http2: bool = False

    def fetch_config(self, max_bytes: int | None = None) -> dict[str, Any]:
        """``FetchConfig`` keyword arguments, only those that differ from its defaults."""
        given = self.model_dump(exclude_unset=True)
        config: dict[str, Any] = {}
        if "timeout" in given:
            t = given.pop("timeout")
            config.update(connect_timeout=min(10.0, t), read_timeout=t, total_timeout=4 * t)
        if "retry_backoff" in given:
            config["backoff_base"] = given.pop("retry_backoff")
        config.update(given)
        if max_bytes is not None:
            config["max_bytes"] = max_bytes
        return config


class S3Settings(_Model):
    """How to reach an S3 store (credentials are never here: they come from the AWS chain)."""

    endpoint_url: str | None = None
    addressing_style: Literal["auto", "path", "virtual"] | None = None
    profile: str | None = None
    region: str | None = None
    max_concurrency: int | None = Field(None, ge=1, le=256)


class Schedule(_Model):
    """When a deployment runs: ``cron`` (with ``timezone``) or ``interval`` (``6h``, ``1d``, seconds)."""

    cron: str | None = None
    interval: Duration | None = None
    timezone: str = "UTC"
    active: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=value)
        except (ValidationError, ValueError):
            raise PydanticCustomError("cron", "not a cron expression: '{cron}'", {"cron": value}) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError("timezone", "unknown time zone '{tz}' (use e.g. UTC, Europe/Madrid)", {"tz": value}) from None
        return value

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.cron is None) == (self.interval is None):
            raise PydanticCustomError("schedule", "give exactly one of cron or interval")
        return self


class _Source(_Model):
    name: str = Field(description="Unique; becomes the deployment name and the source:<name> tag.")
    description: str | None = None
    out: str | None = Field(None, description="The store: a folder or s3://bucket/prefix/.")
    s3: S3Settings | None = None
    store_block: str | None = Field(None, description="A saved PagescrubStore block (used when out is not given).")
    politeness: Politeness = Politeness()
    schedule: Schedule | None = None
    tags: StrList = []
    batch_size: int = Field(FETCH_BATCH_SIZE, ge=1, le=10_000)
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1024)
    failure_threshold: float = Field(0.5, ge=0, le=1, description="Failed pages / pages above which the run is Failed.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise PydanticCustomError(
                "name", "'{name}' is not a source name: use lower-case letters, digits, - and _ (at most 63)", {"name": value}
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag.strip() or tag.startswith(("source:", "kind:", "window:")):
                raise PydanticCustomError("tag", "tag '{tag}' is empty or reserved (source:, kind:, window:)", {"tag": tag})
        return value

    @model_validator(mode="after")
    def _store(self) -> _Source:
        if not self.out and not self.store_block:
            raise PydanticCustomError("store", "give out (a folder or s3://bucket/prefix/) or store_block")
        if self.out and re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", self.out) and not self.out.lower().startswith("s3://"):
            raise PydanticCustomError("store", "out must be a folder or s3://bucket/prefix/, not '{out}'", {"out": self.out})
        return self


class UrlsSource(_Source):
    """Page URLs, listed here (``urls``) and/or in a file, one a line (``file``)."""

    kind: Literal["urls"]
    urls: StrList = []
    file: str | None = None

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_check_url(u) for u in value]

    @model_validator(mode="after")
    def _some(self) -> UrlsSource:
        if not self.urls and not self.file:
            raise PydanticCustomError("urls", "a urls source needs urls or file")
        return self


class _Dated(_Source):
    since: date | datetime | None = Field(None, description="Only entries dated on or after this (fixed; backfills set their own).")
    until: date | datetime | None = None


class SitemapSource(_Dated):
    """Sitemaps (and sitemap indexes), and/or sites whose robots.txt names their sitemaps."""

    kind: Literal["sitemap"]
    sitemaps: StrList = []
    sites: StrList = []

    @field_validator("sitemaps", "sites")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_check_url(u) for u in value]

    @model_validator(mode="after")
    def _some(self) -> SitemapSource:
        if not self.sitemaps and not self.sites:
            raise PydanticCustomError("sitemaps", "a sitemap source needs sitemaps or sites")
        return self


class FeedSource(_Dated):
    """RSS or Atom feeds."""

    kind: Literal["feed"]
    feeds: Annotated[StrList, Field(min_length=1)]

    @field_validator("feeds")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_check_url(u) for u in value]


class SavedSource(_Source):
    """Saved pages: local files or folders, or an ``s3://bucket/prefix/`` of saved pages."""

    kind: Literal["saved"]
    paths: Annotated[StrList, Field(min_length=1)]
    url_manifest: str | None = Field(None, description="CSV (path,url) or JSONL giving the pages their URLs.")


Source = Annotated[UrlsSource | SitemapSource | FeedSource | SavedSource, Field(discriminator="kind")]


class SourcesFile(_Model):
    version: Literal[1] = 1
    sources: Annotated[list[Source], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> SourcesFile:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise PydanticCustomError("duplicate", "two sources are named '{name}'", {"name": source.name})
            seen.add(source.name)
        return self

    def get(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"no source named {name!r}; the file has: {', '.join(s.name for s in self.sources)}")


# -- errors with lines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int
    """1-based."""
    column: int
    field: str
    """Where, as ``sources[1].politeness.per_host_delay``."""
    message: str

    def format(self, file: str) -> str:
        return f"{file}:{self.line}:{self.column}: {self.field}: {self.message}"


class SourcesError(ValueError):
    """The sources file is wrong; ``problems`` says where, one per mistake."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        head = f"{file}: {len(problems)} problem{'s' if len(problems) != 1 else ''} in the sources file"
        super().__init__("\n".join([head, *("  " + p.format(file) for p in problems)]))


def load_sources(path: str | os.PathLike[str]) -> SourcesFile:
    """Read, validate and resolve a sources file; raises ``SourcesError`` naming lines and fields."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(str(file), [Problem(1, 1, "(file)", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise SourcesError(str(file), [Problem(1, 1, "(file)", "not UTF-8 text")]) from None
    return parse_sources(text, name=str(file), base=file.resolve().parent)


def parse_sources(text: str, *, name: str = "<sources>", base: str | os.PathLike[str] | None = None) -> SourcesFile:
    """Validate sources YAML ``text``; relative paths are resolved against ``base`` when given."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise SourcesError(name, [Problem(1, 1, "(file)", "empty: it needs a `sources:` list")])
        problems = _duplicate_keys(root)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x) or str(exc)
        raise SourcesError(name, [Problem(line, col, "(yaml)", f"not valid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise SourcesError(name, [Problem(1, 1, "(yaml)", str(exc))]) from None
    finally:
        loader.dispose()
    if problems:
        raise SourcesError(name, problems)
    if not isinstance(data, dict):
        raise SourcesError(name, [Problem(root.start_mark.line + 1, 1, "(file)", "must be a mapping with a `sources:` list")])

    defaults_node = _child(root, "defaults")
    defaults = data.pop("defaults", None) or {}
    if not isinstance(defaults, dict):
        raise SourcesError(name, [_at(defaults_node or root, "defaults", "must be a mapping of source fields")])
    if isinstance(data.get("sources"), list):
        data["sources"] = [_merge(defaults, s) if isinstance(s, dict) else s for s in data["sources"]]
    try:
        parsed = SourcesFile.model_validate(data)
    except ValidationError as exc:
        found = [_problem(root, defaults_node, err) for err in exc.errors()]
        raise SourcesError(name, sorted(dict.fromkeys(found), key=lambda p: (p.line, p.column))) from None
    if base is not None:
        parsed = SourcesFile(version=parsed.version, sources=[_resolve(s, Path(base)) for s in parsed.sources])
    return parsed


def _merge(defaults: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        elif key == "tags" and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *(t for t in value if t not in merged[key])]
        else:
            merged[key] = value
    return merged


def _duplicate_keys(node: yaml.Node) -> list[Problem]:
    """PyYAML keeps the last of two equal keys without a word: that hides mistakes."""
    found: list[Problem] = []
    stack = [(node, "")]
    while stack:
        current, where = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in current.value:
                k = str(key.value)
                if k in seen:
                    found.append(_at(key, f"{where}{'.' if where else ''}{k}", "given twice in one mapping"))
                seen.add(k)
                stack.append((value, f"{where}{'.' if where else ''}{k}"))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(current.value))
    return sorted(found, key=lambda p: (p.line, p.column))


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if k.value == key:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None


def _key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if k.value == key:
                return k
    return None


def _at(node: yaml.Node, field: str, message: str) -> Problem:
    return Problem(node.start_mark.line + 1, node.start_mark.column + 1, field, message)


_OWN_MESSAGES = ("duration", "cron", "timezone", "url", "name", "tag", "store", "schedule", "duplicate", "urls", "sitemaps")
"""Our errors, whose messages already name the value."""

_KIND_FIELDS = {
    "urls": UrlsSource,
    "sitemap": SitemapSource,
    "feed": FeedSource,
    "saved": SavedSource,
}


def _problem(root: yaml.Node, defaults: yaml.Node | None, err: Any) -> Problem:
    """A pydantic error located in the YAML: the value's node, else the mapping that lacks the key."""
    loc = list(err["loc"])
    kind: str | None = None
    if len(loc) > 2 and loc[0] == "sources" and isinstance(loc[1], int) and loc[2] in KINDS:
        kind = str(loc.pop(2))  # the discriminated union's tag, not a key of the file
    node: yaml.Node = root
    field = ""
    source_name: str | None = None
    for i, part in enumerate(loc):
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
        child = _child(node, part)
        if child is None and i >= 2 and loc[0] == "sources" and defaults is not None:
            child = defaults  # not in the source: it came from `defaults:`
            for p in loc[2 : i + 1]:
                child = _child(child, p) if child is not None else None
            if child is not None and err["type"] != "missing":
                field, source_name = "defaults" + "".join(f".{p}" for p in loc[2 : i + 1]), None
                for p in loc[i + 1 :]:
                    child2 = _child(child, p)
                    if child2 is None:
                        break
                    field, child = field + f".{p}", child2
                node = child
                break
        if err["type"] == "extra_forbidden" and i == len(loc) - 1 and isinstance(part, str):
            child = _key_node(node, part) or child  # point at the unknown key itself
        if i == 1 and loc[0] == "sources" and isinstance(child, yaml.MappingNode):
            source_name = getattr(_child(child, "name"), "value", None)
        if child is None:
            break
        node = child
    message = err["msg"]
    if err["type"] == "missing":
        message = "required field missing"
    elif err["type"] == "extra_forbidden":
        owner: type[BaseModel] | None = SourcesFile
        inner = loc[:-1]
        if kind is not None:
            owner, inner = _KIND_FIELDS[kind], loc[2:-1]
        for part in inner:
            owner = _submodel(owner.model_fields.get(str(part))) if owner is not None else None
        allowed = sorted(owner.model_fields) + (["defaults"] if owner is SourcesFile else []) if owner else []
        message = f"unknown field {str(loc[-1])!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    elif err["type"] == "union_tag_invalid":
        got = err["input"].get("kind") if isinstance(err.get("input"), dict) else None
        message = f"kind must be one of {', '.join(KINDS)} (got {got!r})"
        node = _child(node, "kind") or node
        field += ".kind"
    elif err["type"] == "union_tag_not_found":
        message = f"kind is missing: one of {', '.join(KINDS)}"
    elif "input" in err and not isinstance(err["input"], (dict, list)) and err["type"] not in _OWN_MESSAGES:
        message += f" (got {err['input']!r})"  # pydantic's own messages do not say what was given
    if source_name:
        field += f" (source {source_name!r})"
    return _at(node, field or "(file)", message)


def _submodel(info: Any) -> type[BaseModel] | None:
    if info is None:
        return None
    annotation = info.annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _resolve(source: Any, base: Path) -> Any:
    """Relative local paths of a source, made absolute against the sources file's folder."""

    def local(p: str | None) -> str | None:
        if p is None or "://" in p:
            return p
        path = Path(os.path.expanduser(p))
        return str(path if path.is_absolute() else (base / path).resolve())

    update: dict[str, Any] = {"out": local(source.out)}
    if isinstance(source, SavedSource):
        update.update(paths=[local(p) for p in source.paths], url_manifest=local(source.url_manifest))
    if isinstance(source, UrlsSource):
        update["file"] = local(source.file)
    return source.model_copy(update=update)


# -- to the flow --------------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value.isoformat()


def scrape_parameters(source: Any) -> dict[str, Any]:
    """The ``scrape`` flow's parameters for ``source``, as JSON values (only what the source sets)."""
    params: dict[str, Any] = {"batch_size": source.batch_size, "max_bytes": source.max_bytes}
    if source.out:
        params["out"] = source.out
    if source.store_block:
        params["store_block"] = source.store_block
    if source.s3 is not None:
        params["store_options"] = source.s3.model_dump(exclude_none=True)
    if isinstance(source, SavedSource):
        params["paths"] = list(source.paths)
        if source.url_manifest:
            params["url_manifest"] = source.url_manifest
        return params
    params["fetch"] = source.politeness.fetch_config(source.max_bytes)
    if isinstance(source, UrlsSource):
        if source.urls:
            params["urls"] = list(source.urls)
        if source.file:
            params["url_lists"] = [source.file]
    elif isinstance(source, SitemapSource):
        if source.sitemaps:
            params["sitemaps"] = list(source.sitemaps)
        if source.sites:
            params["sites"] = list(source.sites)
    elif isinstance(source, FeedSource):
        params["feeds"] = list(source.feeds)
    if isinstance(source, _Dated):
        if source.since is not None:
            params["since"] = _iso(source.since)
        if source.until is not None:
            params["until"] = _iso(source.until)
    return params


def day_start(value: date | datetime) -> datetime:
    """A date as midnight UTC; a naive date-time as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)
