"""Strip secrets from Zerobyte data and free text before an agent (or a log) sees them.

Zerobyte returns sealed fields as `encv1:` ciphertext, but webhook URLs and headers, backup-hook bodies and REST
repository URLs come back in plain text. Every byte that leaves this server towards an agent passes
through here, so the rules live in one module and are property-tested.

Redacted data is for showing only: a tool that edits an object must merge into the raw object it read from
Zerobyte, never send a redacted copy back (Zerobyte would store "<redacted>" as the new secret).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

__all__ = ["REDACTED", "quotes_secret", "redact", "redact_text", "scrub_exact"]

REDACTED: Final = "<redacted>"

# Compared after lower-casing and dropping "_" and "-", so apiKey, api_key, API-KEY and x-api-key all match.
# knownHosts stays visible: it holds public host keys, and an agent needs it to diagnose SFTP host-key failures.
_SECRET_KEYS: Final = frozenset(
    {
        "password",
        "custompassword",
        "secretaccesskey",
        "accesskeyid",
        "accountkey",
        "credentialsjson",
        "privatekey",
        "passphrase",
        "token",
        "bottoken",
        "apitoken",
        "accesstoken",
        "refreshtoken",
        "webhookurl",
        "shoutrrrurl",
        "cacert",
        "secret",
        "clientsecret",
        "apikey",
        "xapikey",
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "userkey",
    }
)

# Header values that describe the payload rather than authenticate it.
_HARMLESS_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "accept-language", "cache-control", "content-length", "content-type", "user-agent"}
)

# Sealed values are `encv1:<salt>:<iv>:<ciphertext>:<tag>` in hex/base64, so list punctuation ends one.
_ENCV1: Final = re.compile(r"encv1:[^\s\"',;)\]}>\\]+")
# Free text: anything shaped like a key. Structured data: only long unbroken runs, because a volume may well be
# named "zb_homefolder" (Better Auth makes keys of 64 letters after the prefix).
_ZB_KEY_LOOSE: Final = re.compile(r"zb_[A-Za-z0-9_-]{8,}")
_ZB_KEY_STRICT: Final = re.compile(r"zb_[A-Za-z0-9]{24,}")
# Greedy up to the last "@" of the authority, so a password with a raw "@" in it is still covered. A quote ends
# it (JSON-escaped \" does not), so redacting a JSON document never swallows its structure.
# The lookbehind starts a scheme only at the start of a word: without it every letter of a long run is tried as a
# start and scanned to the run's end, which is quadratic (100 KB of letters took 10 s of a blocked event loop).
_USERINFO: Final = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/\s?#\"\\]|\\.)*@")
_SECRET_QUERY: Final = re.compile(
    r"([?&;][A-Za-z0-9_.-]*?(?:token|key|pass|pwd|secret|auth|sig|credential)[A-Za-z0-9_.-]*=)([^&#\s\"'\\]*)",
    re.IGNORECASE,
)
# Environment-style names count with any prefix and suffix (RESTIC_PASSWORD=, AWS_SECRET_ACCESS_KEY=...): "_" is a
# word character, so \b alone misses them.
_SECRET_PAIR: Final = re.compile(
    r"""\b((?:[A-Za-z0-9]+_)*(?:password|passwd|pass|pwd|secret|token|api[_-]?key|access[_-]?token|access[_-]?key"""
    r"""|private[_-]?key|credentials?)(?:_[A-Za-z0-9]+)*)"""
    r"""(["']?[ \t]*[=:][ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',;&}\]\\\[{][^\s"',;&}\]\\]*)""",
    re.IGNORECASE,
)
# "Authorization: Bearer X" (the scheme word stays, it tells what kind of credential it was) and a bare "Bearer X".
_AUTHORIZATION: Final = re.compile(
    r"""(?i)\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?)((?:bearer|basic|token|digest|apikey)[ \t]+)?"""
    r"""([^\s"',;]+)"""
)
_BEARER: Final = re.compile(r"(?i)\b(bearer[ \t]+)(?!<redacted>)[A-Za-z0-9._~+/=-]{6,}")
# Tokens with a recognisable shape, wherever they stand: Slack (xoxb-...), ntfy (tk_...), Telegram bot tokens
# (123456:ABC...), GitHub (ghp_...).
_TOKEN_SHAPES: Final = re.compile(
    r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|tk_[A-Za-z0-9]{20,}|\d{6,12}:[A-Za-z0-9_-]{30,}|gh[pousr]_[A-Za-z0-9]{20,})"
)
# A URL anywhere in free text. Notification URLs (shoutrrr's discord://token@id, pushbullet://<token>...) are
# credentials from the scheme on; webhook services put the secret in the path (Slack /services/T../B../<secret>,
# Discord /api/webhooks/<id>/<token>, Telegram /bot<token>, healthchecks /<uuid>, ntfy.sh/<topic>).
_URL: Final = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*)://([^\s\"'<>\\`]+)")
_NOTIFY_SCHEMES: Final = frozenset(
    {
        "bark", "discord", "generic", "generic+http", "generic+https", "googlechat", "gotify", "hangouts", "ifttt",
        "join", "lark", "matrix", "mattermost", "ntfy", "opsgenie", "pushbullet", "pushover", "rocketchat", "signal",
        "slack", "teams", "telegram", "wecom", "zulip",
    }
)  # fmt: skip
_WEBHOOK_HOSTS: Final = (
    "hooks.slack.com",
    "discord.com",
    "discordapp.com",
    "api.telegram.org",
    "hc-ping.com",
    "maker.ifttt.com",
    "webhook.office.com",
    "outlook.office.com",
    "hooks.zapier.com",
    "ntfy.sh",
    "api.pushover.net",
    "chat.googleapis.com",
)
_SEGMENT_TOKEN: Final = re.compile(r"[A-Za-z0-9_~.-]{16,}")

# "password: null" says nothing secret, and turning JSON literals into text would break the document.
_LITERALS: Final = frozenset({"null", "true", "false", "None", "True", "False"})

# Shorter "secrets" would match all over ordinary text while protecting nothing.
_MIN_SECRET_LENGTH: Final = 4


def redact(value: object, *, secrets: Iterable[str] = ()) -> object:
    """Return a deep copy of `value` (decoded JSON) with every secret replaced by REDACTED.

    `secrets` are exact strings (the API key, the HTTP token) removed wherever they occur.
    """
    return _walk(value, _prepare(secrets), hook=False, generic=False)


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """Return free text (an error message, a log line) with secrets replaced by REDACTED.

    Removes the exact strings in `extra`, anything shaped like a Zerobyte API key, `encv1:` blobs,
    credentials in URLs and secret query parameters, and `password=...`-style pairs.
    """
    return _scrub(text, _prepare(extra), _ZB_KEY_LOOSE)


def scrub_exact(value: object, secrets: Iterable[str]) -> object:
    """``value`` (text or decoded JSON) with only the exact ``secrets`` replaced: the last pass over every
    answer, which must not touch anything else (a file's content, a listing)."""
    prepared = _prepare(secrets)
    if not prepared:
        return value
    return _exact(value, prepared)


def quotes_secret(data: bytes, secrets: Iterable[str], window: int = 12) -> bool:
    """True when ``data`` holds any ``window`` consecutive characters of a secret: a whole key, or the piece a
    truncated read shows (reading a key file 1 byte longer each time would otherwise spell the key out)."""
    for secret in secrets:
        raw = secret.encode()
        size = min(window, len(raw))
        if size and any(raw[i : i + size] in data for i in range(len(raw) - size + 1)):
            return True
    return False


def _exact(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {_exact(k, secrets): _exact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_exact(item, secrets) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _prepare(secrets: Iterable[str]) -> tuple[str, ...]:
    unique = {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}
    # Also as it appears inside a JSON string, for callers that redact a serialised document.
    unique |= {json.dumps(s, ensure_ascii=False)[1:-1] for s in unique}
    return tuple(sorted(unique, key=len, reverse=True))


def _scrub(text: str, secrets: tuple[str, ...], zb_key: re.Pattern[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _ENCV1.sub(REDACTED, text)
    text = zb_key.sub(REDACTED, text)
    text = _URL.sub(_replace_url, text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _SECRET_QUERY.sub(lambda m: m.group(1) + (REDACTED if m.group(2) else ""), text)
    text = _TOKEN_SHAPES.sub(REDACTED, text)
    text = _AUTHORIZATION.sub(lambda m: f"{m.group(1)}{m.group(2) or ''}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _SECRET_PAIR.sub(_replace_pair, text)


def _replace_url(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    if scheme.lower() in _NOTIFY_SCHEMES:
        return f"{scheme}://{REDACTED}"
    if scheme.lower() not in ("http", "https"):
        return match.group(0)
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    host = authority.rpartition("@")[2].rsplit(":", 1)[0].strip("[]").lower()
    if tail.strip("/") and any(host == h or host.endswith("." + h) for h in _WEBHOOK_HOSTS):
        return f"{scheme}://{authority}/{REDACTED}"
    # Elsewhere only a path segment or query value that looks random (a token, a UUID) hides the rest.
    kept: list[str] = []
    for piece in re.split(r"([/?&=#])", tail):
        if piece not in ("/", "?", "&", "=", "#") and _looks_random(piece):
            return f"{scheme}://{authority}{''.join(kept)}{REDACTED}"
        kept.append(piece)
    return match.group(0)


def _looks_random(piece: str) -> bool:
    """A long run mixing letters and digits many times over (a token, a UUID), not a word like "backup-2026"."""
    if piece == REDACTED or not _SEGMENT_TOKEN.fullmatch(piece):
        return False
    switches = sum(
        1 for a, b in itertools.pairwise(piece) if a.isdigit() != b.isdigit() and a.isalnum() and b.isalnum()
    )
    return switches >= 4


def _replace_pair(match: re.Match[str]) -> str:
    name, separator, value = match.groups()
    if value in _LITERALS:
        return match.group(0)
    # After a quoted name (JSON), an unquoted value must become a quoted one to keep the document valid.
    quote = value[0] if value[0] in "\"'" else separator[0] if separator[0] in "\"'" else ""
    return f"{name}{separator}{quote}{REDACTED}{quote}"


# A tool option that sets a webhook ("pre_webhook=https://hc-ping.com/<uuid>"): the path is the secret.
_HOOK_OPTION = re.compile(r"(?i)^([a-z_]*(?:webhook|hook_url|webhook_url))=(https?://\S+)$")


def _redact_string(text: str, secrets: tuple[str, ...]) -> str:
    if text.startswith("encv1:"):
        return REDACTED
    hook = _HOOK_OPTION.match(text)
    if hook:
        return f"{hook[1]}={_redact_capability_url(hook[2])}"
    return _scrub(text, secrets, _ZB_KEY_STRICT)


def _norm_key(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _walk(value: object, secrets: tuple[str, ...], *, hook: bool, generic: bool) -> object:
    if isinstance(value, str):
        return _redact_string(value, secrets)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return _walk_mapping(value, secrets, hook=hook, generic=generic)
    if isinstance(value, list | tuple):
        items = [_walk(item, secrets, hook=hook, generic=generic) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return copy.deepcopy(value)


def _walk_mapping(
    mapping: Mapping[object, object], secrets: tuple[str, ...], *, hook: bool, generic: bool
) -> dict[object, object]:
    # A generic notification's URL is a capability (IFTTT and friends put the key in the path), and so is a
    # backup hook's URL (healthchecks.io ping URLs are the secret); Zerobyte returns both in plain text.
    generic = generic or mapping.get("type") == "generic"
    out: dict[object, object] = {}
    for key, value in mapping.items():
        name = _norm_key(key) if isinstance(key, str) else ""
        if name in _SECRET_KEYS:
            out[key] = value if _is_empty(value) else REDACTED
        elif name == "headers":
            out[key] = _redact_headers(value, secrets)
        elif name == "backupwebhooks":
            out[key] = _walk(value, secrets, hook=True, generic=generic)
        elif hook and name == "body":
            out[key] = value if _is_empty(value) else REDACTED
        elif (hook or generic) and name == "url" and isinstance(value, str):
            out[key] = _redact_capability_url(value)
        else:
            out[key] = _walk(value, secrets, hook=hook, generic=generic)
    return out


def _redact_headers(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return _redact_header_line(value, secrets)
    if isinstance(value, Mapping):
        return {
            name: _redact_header_value(name, item, secrets) if isinstance(name, str) else REDACTED
            for name, item in value.items()
        }
    if isinstance(value, list | tuple):
        lines = [_redact_header_line(item, secrets) if isinstance(item, str) else REDACTED for item in value]
        return lines if isinstance(value, list) else tuple(lines)
    return value if value is None else REDACTED


def _redact_header_line(line: str, secrets: tuple[str, ...]) -> str:
    name, colon, value = line.partition(":")
    if not colon:
        return REDACTED if line.strip() else line
    shown = _redact_header_value(name.strip(), value.strip(), secrets)
    return f"{name.strip()}: {shown}"


def _redact_header_value(name: str, value: object, secrets: tuple[str, ...]) -> object:
    if name.strip().lower() in _HARMLESS_HEADERS:
        return _walk(value, secrets, hook=False, generic=False)
    return value if _is_empty(value) else REDACTED


def _loopback(host: str) -> bool:
    return host == "localhost" or host == "::1" or host.startswith("127.")


def _redact_capability_url(url: str) -> str:
    """Keep scheme, host and port (enough to diagnose "which server is it calling?"), hide the rest."""
    if not url.strip():
        return url
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return REDACTED
    host = parts.hostname
    if not parts.scheme or not host:
        return REDACTED
    if _loopback(host):
        # Only this host can call it, so its path is no capability: shown as free text is (userinfo and token-like
        # parts still hidden), as the README promises for http://127.0.0.1:9/hook.
        return redact_text(url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = f"{REDACTED}@{netloc}"
    has_rest = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{parts.scheme}://{netloc}/{REDACTED}" if has_rest else f"{parts.scheme}://{netloc}"
