"""Redaction: planted secrets never survive, and ordinary Zerobyte data passes through unchanged."""

from __future__ import annotations

import json
import string

from hypothesis import given
from hypothesis import strategies as st

from mcp_server.safety.redact import REDACTED, redact, redact_text

KEY = "zb_test_key_0123456789"


# --- examples shaped like Zerobyte responses ------------------------------------------------------------------


def test_sealed_encv1_values_are_redacted_wherever_they_are() -> None:
    volume = {
        "id": 3,
        "shortId": "crjZKYGr",
        "name": "nas-photos",
        "config": {"backend": "smb", "server": "nas", "share": "photos", "username": "encv1:a:b:c:d"},
    }
    assert redact(volume) == {
        "id": 3,
        "shortId": "crjZKYGr",
        "name": "nas-photos",
        "config": {"backend": "smb", "server": "nas", "share": "photos", "username": REDACTED},
    }


def test_secret_fields_are_redacted_by_name_in_any_case() -> None:
    config = {
        "backend": "s3",
        "endpoint": "https://s3.example.com",
        "bucket": "backups",
        "accessKeyId": "AKIAEXAMPLE",
        "SecretAccessKey": "plain-secret",
        "customPassword": "hunter2",
        "cacert": "-----BEGIN CERTIFICATE-----",
        "api_key": "abc123",
        "x-api-key": KEY,
    }
    assert redact(config) == {
        "backend": "s3",
        "endpoint": "https://s3.example.com",
        "bucket": "backups",
        "accessKeyId": REDACTED,
        "SecretAccessKey": REDACTED,
        "customPassword": REDACTED,
        "cacert": REDACTED,
        "api_key": REDACTED,
        "x-api-key": REDACTED,
    }


def test_empty_secret_fields_stay_empty_so_an_agent_can_see_nothing_is_set() -> None:
    assert redact({"password": "", "privateKey": None, "token": []}) == {
        "password": "",
        "privateKey": None,
        "token": [],
    }


def test_known_hosts_and_user_names_are_kept() -> None:
    sftp = {"backend": "sftp", "host": "nas", "user": "backup", "knownHosts": "nas ssh-ed25519 AAAAC3Nza"}
    assert redact(sftp) == sftp


def test_notification_secrets_are_redacted() -> None:
    destinations = [
        {"type": "slack", "config": {"type": "slack", "webhookUrl": "https://hooks.slack.com/services/T/B/X"}},
        {"type": "telegram", "config": {"type": "telegram", "botToken": "123:ABC", "chatId": "-100200"}},
        {"type": "pushover", "config": {"type": "pushover", "userKey": "u123", "apiToken": "a456", "priority": 0}},
        {"type": "custom", "config": {"type": "custom", "shoutrrrUrl": "ntfy://user:pw@ntfy.sh/topic"}},
    ]
    assert redact(destinations) == [
        {"type": "slack", "config": {"type": "slack", "webhookUrl": REDACTED}},
        {"type": "telegram", "config": {"type": "telegram", "botToken": REDACTED, "chatId": "-100200"}},
        {"type": "pushover", "config": {"type": "pushover", "userKey": REDACTED, "apiToken": REDACTED, "priority": 0}},
        {"type": "custom", "config": {"type": "custom", "shoutrrrUrl": REDACTED}},
    ]


def test_generic_notification_keeps_the_host_and_header_names_only() -> None:
    generic = {
        "type": "generic",
        "name": "ifttt",
        "config": {
            "type": "generic",
            "url": "https://maker.ifttt.com/trigger/backup/with/key/SECRETPATH",
            "method": "POST",
            "headers": ["Authorization: Bearer abc.def", "Content-Type: application/json", "garbage"],
        },
    }
    assert redact(generic) == {
        "type": "generic",
        "name": "ifttt",
        "config": {
            "type": "generic",
            "url": f"https://maker.ifttt.com/{REDACTED}",
            "method": "POST",
            "headers": [f"Authorization: {REDACTED}", "Content-Type: application/json", REDACTED],
        },
    }


def test_backup_webhooks_keep_the_host_and_hide_path_headers_and_body() -> None:
    schedule = {
        "shortId": "dl2FvHvs",
        "backupWebhooks": {
            "pre": {
                "url": "https://hc-ping.com/0b1c2d3e-uuid/start",
                "headers": ["X-Token: t0ps3cret"],
                "body": '{"password": "pw"}',
                "insecureTls": False,
            },
            "post": {"url": "http://10.0.0.5:8080", "body": ""},
        },
    }
    assert redact(schedule) == {
        "shortId": "dl2FvHvs",
        "backupWebhooks": {
            "pre": {
                "url": f"https://hc-ping.com/{REDACTED}",
                "headers": [f"X-Token: {REDACTED}"],
                "body": REDACTED,
                "insecureTls": False,
            },
            "post": {"url": "http://10.0.0.5:8080", "body": ""},
        },
    }


def test_header_dicts_keep_names_and_harmless_values() -> None:
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "content-type": "text/plain", "Cookie": "sid=1"}
    assert redact({"headers": headers}) == {
        "headers": {"Authorization": REDACTED, "content-type": "text/plain", "Cookie": REDACTED}
    }


def test_url_credentials_and_secret_query_params_are_redacted_in_any_string() -> None:
    repository = {
        "config": {"backend": "rest", "url": "rest:https://alice:pa@ss@rest.example.com:8000/repo?token=t1&x=1"},
        "lastError": "Fatal: unable to open https://bob:pw@host/x?api_key=k9",
    }
    assert redact(repository) == {
        "config": {
            "backend": "rest",
            "url": f"rest:https://{REDACTED}@rest.example.com:8000/repo?token={REDACTED}&x=1",
        },
        "lastError": f"Fatal: unable to open https://{REDACTED}@host/x?api_key={REDACTED}",
    }


def test_exact_secrets_are_removed_from_structured_data() -> None:
    assert redact({"message": f"sent key {KEY}"}, secrets=[KEY]) == {"message": f"sent key {REDACTED}"}


def test_redact_returns_a_copy_and_leaves_the_input_alone() -> None:
    original = {"config": {"password": "pw", "paths": ["/a"]}}
    result = redact(original)
    assert original == {"config": {"password": "pw", "paths": ["/a"]}}
    assert isinstance(result, dict)
    assert result["config"] is not original["config"]


def test_volume_names_that_start_with_zb_are_kept_in_data() -> None:
    assert redact({"name": "zb_homefolder_backup"}) == {"name": "zb_homefolder_backup"}


def test_redact_text_removes_keys_blobs_credentials_and_password_pairs() -> None:
    text = (
        f"auth failed for {KEY}; config encv1:aa:bb:cc; url https://u:p@zb.example.com/api?token=abc "
        "restic said password=hunter2 and pass: 'two words'"
    )
    assert redact_text(text) == (
        f"auth failed for {REDACTED}; config {REDACTED}; url https://{REDACTED}@zb.example.com/api?token={REDACTED} "
        f"restic said password={REDACTED} and pass: '{REDACTED}'"
    )


def test_redact_text_removes_exact_extra_secrets() -> None:
    assert redact_text("token abcdefgh-1234 leaked", extra=["abcdefgh-1234"]) == f"token {REDACTED} leaked"


# --- properties -----------------------------------------------------------------------------------------------

SAFE_KEYS = [
    "id",
    "shortId",
    "name",
    "path",
    "paths",
    "status",
    "backend",
    "server",
    "bucket",
    "username",
    "knownHosts",
    "cronExpression",
    "size",
    "type",
    "short_id",
    "tags",
    "summary",
    "volume",
]
SAFE_TEXT = st.text(alphabet=string.ascii_lowercase + string.digits + " /._-*", max_size=30)
SAFE_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SAFE_TEXT
)
SAFE_DATA = st.recursive(
    SAFE_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(SAFE_KEYS), children, max_size=4),
    max_leaves=20,
)
# Secrets use upper case, which the safe data never contains, so "the secret survived" cannot be a coincidence.
SECRET = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=8, max_size=24).map(lambda s: "QX" + s)
SECRET_KEY_NAMES = st.sampled_from(
    [
        "password",
        "Password",
        "customPassword",
        "secretAccessKey",
        "secret_access_key",
        "accessKeyId",
        "accountKey",
        "credentialsJson",
        "privateKey",
        "token",
        "botToken",
        "apiToken",
        "accessToken",
        "webhookUrl",
        "shoutrrrUrl",
        "cacert",
        "secret",
        "apiKey",
        "api_key",
        "Authorization",
        "cookie",
        "userKey",
    ]
)
USERINFO_CHARS = string.ascii_uppercase + string.digits + "!$*+,;=~%-._:@"
HEADER_CHARS = string.ascii_uppercase + string.digits + " -._~+/=:"


@st.composite
def planted(draw: st.DrawFn) -> tuple[object, str]:
    """Safe data with one secret planted in a place Zerobyte may put one."""
    secret = draw(SECRET)
    kind = draw(st.integers(min_value=0, max_value=6))
    if kind == 0:
        plant: object = {draw(SECRET_KEY_NAMES): secret}
    elif kind == 1:
        plant = {draw(st.sampled_from(SAFE_KEYS)): f"encv1:{secret}:iv:tag"}
    elif kind == 2:
        extra = draw(st.text(alphabet=USERINFO_CHARS, max_size=6))
        plant = {"url": f"https://user:{extra}{secret}{extra}@host.example.com/repo"}
    elif kind == 3:
        param = draw(st.sampled_from(["token", "key", "password", "secret", "apikey", "api_key", "access_token"]))
        plant = {"lastError": f"GET https://host.example.com/x?a=1&{param}={secret}&b=2 failed"}
    elif kind == 4:
        value = draw(st.text(alphabet=HEADER_CHARS, max_size=6)) + secret
        plant = {"headers": [f"{draw(st.sampled_from(['Authorization', 'X-Key', 'Cookie']))}: {value}"]}
    elif kind == 5:
        plant = {"backupWebhooks": {"post": {"url": "https://ok.example.com", "body": f'{{"k": "{secret}"}}'}}}
    else:
        plant = {"backupWebhooks": {"pre": {"url": f"https://hc-ping.com/{secret}"}}}
    data = draw(SAFE_DATA)
    return draw(st.sampled_from([[data, plant], {"data": data, "plant": plant}, [plant]])), secret


@given(SAFE_DATA)
def test_ordinary_data_is_kept_unchanged(data: object) -> None:
    assert redact(data) == data


@given(planted())
def test_planted_secrets_never_survive(case: tuple[object, str]) -> None:
    data, secret = case
    assert secret not in json.dumps(redact(data))


@given(planted())
def test_redacting_twice_changes_nothing(case: tuple[object, str]) -> None:
    once = redact(case[0])
    assert redact(once) == once


@given(st.text(alphabet=string.ascii_lowercase + string.digits + " /.,-()", max_size=80))
def test_ordinary_text_is_kept_unchanged(text: str) -> None:
    assert redact_text(text) == text


@st.composite
def planted_text(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    secret = draw(SECRET)
    words = st.text(alphabet=string.ascii_lowercase + " ", max_size=20)
    kind = draw(st.integers(min_value=0, max_value=5))
    extra: list[str] = []
    if kind == 0:
        middle = secret
        extra = [secret]
    elif kind == 1:
        middle = f"zb_{secret}"
    elif kind == 2:
        middle = f"encv1:{secret}"
    elif kind == 3:
        middle = f"https://u:{secret}@host/x"
    elif kind == 4:
        middle = f"{draw(st.sampled_from(['password', 'pass', 'passwd', 'pwd', 'token', 'secret']))}={secret}"
    else:
        middle = f"https://host/x?{draw(st.sampled_from(['token', 'key', 'auth', 'sig']))}={secret}"
    return f"{draw(words)} {middle} {draw(words)}", secret, extra


@given(planted_text())
def test_planted_secrets_never_survive_in_text(case: tuple[str, str, list[str]]) -> None:
    text, secret, extra = case
    assert secret not in redact_text(text, extra)


# --- serialised JSON (the audit log redacts whole JSON lines) -------------------------------------------------


def test_redact_text_keeps_json_valid() -> None:
    document = '{"password":123,"token":null,"pass":"a\\"b","url":"https://h","email":"a@b","x":"https://u:p@h/"}'
    assert json.loads(redact_text(document)) == {
        "password": REDACTED,
        "token": None,
        "pass": REDACTED,
        "url": "https://h",
        "email": "a@b",
        "x": f"https://{REDACTED}@h/",
    }


def test_exact_secrets_are_found_in_their_json_escaped_form() -> None:
    secret = 'tok"en\\with-quote'
    assert secret not in json.loads(redact_text(json.dumps({"v": f"x {secret} y"}), extra=[secret]))["v"]


JSON_KEYS = st.sampled_from(["password", "pass", "token", "secret", "api_key", "url", "name", "headers", "body"])
ANY_TEXT = st.text(alphabet=string.printable, max_size=40)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(JSON_KEYS | ANY_TEXT, children, max_size=4),
    max_leaves=15,
)


@given(ANY_JSON, st.booleans())
def test_redacting_serialised_json_keeps_it_parseable(data: object, compact: bool) -> None:
    document = json.dumps(data, separators=(",", ":") if compact else None)
    json.loads(redact_text(document))


@given(SAFE_DATA)
def test_serialised_ordinary_data_is_kept_unchanged(data: object) -> None:
    document = json.dumps(data)
    assert redact_text(document) == document


@given(planted())
def test_serialised_redacted_data_stays_parseable_and_secret_free(case: tuple[object, str]) -> None:
    data, secret = case
    line = redact_text(json.dumps(redact(data), separators=(",", ":")))
    json.loads(line)
    assert secret not in line


def test_a_webhook_given_as_a_tool_option_keeps_only_its_host() -> None:
    shown = redact({"options": ["pre_webhook=https://hc-ping.com/5f1c-uuid-secret", "post_webhook=none", "x=1"]})
    assert shown == {"options": ["pre_webhook=https://hc-ping.com/<redacted>", "post_webhook=none", "x=1"]}


def test_a_loopback_hook_url_stays_readable_and_a_reachable_one_keeps_only_its_host() -> None:
    # The README's promise: http://127.0.0.1:9/hook stays readable (only this host can call it), in objects too.
    shown = redact(
        {
            "type": "generic",
            "config": {"url": "http://127.0.0.1:9/hook"},
            "backupWebhooks": {"pre": {"url": "http://ops:pw@localhost:8080/ping?token=abc"}},
        }
    )
    assert shown["config"]["url"] == "http://127.0.0.1:9/hook"  # type: ignore[index]
    assert shown["backupWebhooks"]["pre"]["url"] == f"http://{REDACTED}@localhost:8080/ping?token={REDACTED}"  # type: ignore[index]
    elsewhere = redact({"type": "generic", "config": {"url": "https://hooks.example.net/ops/alerts"}})
    assert elsewhere["config"]["url"] == f"https://hooks.example.net/{REDACTED}"  # type: ignore[index]
