"""Free-text redaction (issue 11, hole 3): generated secrets in generated text never survive; plain URLs do.

Errors Zerobyte stores quote what failed: a sender's webhook URL, a header, an environment variable.
"""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from mcp_server.safety.redact import REDACTED, quotes_secret, redact, redact_text, scrub_exact

ALNUM = string.ascii_letters + string.digits
secret = st.text(ALNUM, min_size=16, max_size=48).filter(
    lambda s: sum(c.isdigit() for c in s) >= 3 and sum(c.isalpha() for c in s) >= 3
)
prose = st.text(string.ascii_letters + " .,:;()[]\n", max_size=60)

CAPABILITY_URLS = [
    "https://hooks.slack.com/services/T0AB12CD/B0XY34ZW/{s}",
    "https://discord.com/api/webhooks/123456789012/{s}",
    "https://discordapp.com/api/webhooks/123456789012/{s}",
    "https://api.telegram.org/bot123456789:{s}/sendMessage",
    "https://hc-ping.com/{s}",
    "https://ntfy.sh/{s}",
    "https://gotify.example.org/message?token={s}",
    "https://example.org/notify?apikey={s}&x=1",
    "https://user:{s}@example.org/hook",
    "discord://{s}@123456789012",
    "slack://hook:{s}@webhook",
    "telegram://{s}@telegram?chats=@mychannel",
    "pushbullet://{s}",
    "gotify://gotify.example.org/{s}",
    "ntfy://:{s}@ntfy.example.org/alerts",
    "generic://127.0.0.1:9/services/T0/B0/{s}?disabletls=yes",
]
PAIRS = [
    "Authorization: Bearer {s}",
    "authorization={s}",
    "Proxy-Authorization: Basic {s}",
    "sent with bearer {s}",
    "AWS_SECRET_ACCESS_KEY={s}",
    "B2_ACCOUNT_KEY_SECRET: {s}",
    "RESTIC_PASSWORD={s}",
    "password={s}",
    "token: {s}",
    '"api_key": "{s}"',
    "x-api-key: {s}",
    "GOOGLE_APPLICATION_CREDENTIALS={s}",
]


@given(st.sampled_from(CAPABILITY_URLS + PAIRS), secret, prose, prose)
def test_a_secret_in_a_capability_url_or_credential_pair_never_survives(
    shape: str, value: str, before: str, after: str
) -> None:
    text = f'{before} Post "{shape.format(s=value)}": {after}'
    shown = redact_text(text)
    assert value not in shown and REDACTED in shown


@given(secret, prose, prose)
def test_the_exact_api_key_and_token_are_scrubbed_wherever_they_stand(value: str, before: str, after: str) -> None:
    text = f"{before}{value}{after}"
    assert value not in redact_text(text, [value])
    assert value not in str(scrub_exact({"a": [text], text: 1}, [value]))


@given(prose, prose)
def test_ordinary_urls_stay_readable(before: str, after: str) -> None:
    for url in (
        "http://127.0.0.1:9/hook",
        "https://s3.example.com/my-bucket/backups-2026",
        "https://nas.local:5001/webdav/photos",
        "http://rest-server:8000/repo",
    ):
        text = f"{before} {url} {after}"
        assert redact_text(text) == text


def test_a_webhook_url_keeps_its_host_so_an_agent_can_tell_which_server_it_calls() -> None:
    shown = redact_text('Post "https://hooks.slack.com/services/T0/B0/abcdef123456": dial tcp: refused')
    assert shown == f'Post "https://hooks.slack.com/{REDACTED}": dial tcp: refused'
    assert redact_text("Authorization: Bearer abc.def.ghi") == f"Authorization: Bearer {REDACTED}"


def test_on_other_hosts_a_random_looking_path_segment_hides_the_rest_of_the_url() -> None:
    uuid = "550e8400-e29b-41d4-a716-446655440000"
    assert redact_text(f"https://example.org/hooks/{uuid}/run") == f"https://example.org/hooks/{REDACTED}"
    assert (
        redact_text("https://example.org/hooks/nightly-backup-2026") == "https://example.org/hooks/nightly-backup-2026"
    )


def test_structured_answers_get_the_same_free_text_rules() -> None:
    error = {"lastError": 'failed: Post "https://discord.com/api/webhooks/1/tok3nTOK3Ntok3n99x": 404'}
    assert "tok3nTOK3Ntok3n99x" not in str(redact(error))


@given(secret, st.integers(min_value=12, max_value=48), st.binary(max_size=40), st.binary(max_size=40))
def test_any_piece_of_a_secret_long_enough_to_spell_it_out_is_noticed(
    value: str, cut: int, before: bytes, after: bytes
) -> None:
    piece = value.encode()[:cut]
    assert quotes_secret(before + piece + after, [value])
    assert not quotes_secret(b"zerobyte-mcp reads " + value.encode()[:11], [value])
