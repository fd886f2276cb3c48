"""Every notation the read tools show is read back by the write tools as the same thing: parse(format(x)) == x."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_server.answers.notation import (
    KEEP_KEYS,
    NotationError,
    OptionKind,
    format_location,
    format_options,
    format_retention,
    format_source,
    parse_location,
    parse_options,
    parse_retention,
    parse_source,
)

host = st.from_regex(r"[a-z][a-z0-9-]{0,9}(\.[a-z][a-z0-9-]{0,9}){0,2}", fullmatch=True)
segment = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._ -]{0,9}", fullmatch=True).filter(lambda s: not s.endswith(" "))
abs_path = st.lists(segment, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
rel_path = st.lists(segment, min_size=1, max_size=2).map("/".join)
port = st.integers(min_value=1, max_value=65535)
login = st.from_regex(r"[a-z_][a-z0-9_.@%-]{0,8}", fullmatch=True)
remote = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,9}", fullmatch=True)
bucket = st.from_regex(r"[a-z0-9][a-z0-9.-]{2,12}(/[a-z0-9]{1,6})?", fullmatch=True)
endpoint = st.one_of(
    host, st.builds(lambda scheme, h, p: f"{scheme}://{h}:{p}", st.sampled_from(["http", "https"]), host, port)
)


def _ssh(user_key: str) -> st.SearchStrategy[dict[str, Any]]:
    with_port = st.fixed_dictionaries({"host": host, user_key: login, "path": abs_path, "port": port})
    short = st.fixed_dictionaries({"host": host, user_key: login, "path": st.one_of(abs_path, rel_path)})
    return st.one_of(with_port, short)


VOLUMES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "directory": st.fixed_dictionaries({"path": abs_path}),
    "nfs": st.fixed_dictionaries({"server": host, "exportPath": abs_path}),
    "smb": st.fixed_dictionaries({"server": host, "share": rel_path}),
    "webdav": st.fixed_dictionaries(
        {"server": host, "path": st.one_of(st.just("/"), abs_path), "port": port, "ssl": st.booleans()}
    ),
    "sftp": _ssh("username"),
    "rclone": st.fixed_dictionaries({"remote": remote, "path": st.one_of(rel_path, abs_path)}),
}
REPOSITORIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "local": st.fixed_dictionaries({"path": abs_path}),
    "s3": st.fixed_dictionaries({"endpoint": endpoint, "bucket": bucket}),
    "r2": st.fixed_dictionaries({"endpoint": endpoint, "bucket": bucket}),
    "gcs": st.fixed_dictionaries({"projectId": remote, "bucket": bucket}),
    "azure": st.fixed_dictionaries(
        {"accountName": st.from_regex(r"[a-z0-9]{3,12}", fullmatch=True), "container": bucket}
    ),
    "rclone": st.fixed_dictionaries({"remote": remote, "path": st.one_of(rel_path, abs_path)}),
    "rest": st.fixed_dictionaries(
        {
            "url": st.builds(
                lambda scheme, h, p, path: f"{scheme}://{h}:{p}{path}",
                st.sampled_from(["http", "https"]),
                host,
                port,
                st.one_of(st.just(""), abs_path.map(lambda p: p.replace(" ", "-"))),
            )
        }
    ),
    "sftp": _ssh("user"),
}


@pytest.mark.parametrize("backend", sorted(VOLUMES))
def test_a_volume_source_as_shown_is_read_back_as_the_same_config(backend: str) -> None:
    @given(VOLUMES[backend])
    def check(fields: dict[str, Any]) -> None:
        shown = format_source({"backend": backend, **fields})
        assert shown is not None
        assert parse_source(backend, shown) == fields

    check()


@pytest.mark.parametrize("backend", sorted(REPOSITORIES))
def test_a_repository_location_as_shown_is_read_back_as_the_same_config(backend: str) -> None:
    @given(REPOSITORIES[backend])
    def check(fields: dict[str, Any]) -> None:
        shown = format_location({"backend": backend, **fields})
        assert shown is not None
        assert parse_location(backend, shown) == fields

    check()


@pytest.mark.parametrize(
    ("backend", "text", "expected"),
    [
        ("azure", "azure://acct/container", {"accountName": "acct", "container": "container"}),
        ("azure", "acct/container", {"accountName": "acct", "container": "container"}),
        ("s3", "s3:https://minio.lan:9000/bucket", {"endpoint": "https://minio.lan:9000", "bucket": "bucket"}),
        ("s3", "s3://s3.amazonaws.com/b/prefix", {"endpoint": "s3.amazonaws.com", "bucket": "b/prefix"}),
        ("gcs", "gs://project/bucket", {"projectId": "project", "bucket": "bucket"}),
        ("sftp", "sftp://me@nas:2222/backups", {"host": "nas", "user": "me", "port": 2222, "path": "/backups"}),
    ],
)
def test_pasted_uri_forms_mean_what_they_say(backend: str, text: str, expected: dict[str, Any]) -> None:
    assert parse_location(backend, text) == expected


def test_a_webdav_volume_is_shown_as_the_url_create_volume_takes() -> None:
    config = {"backend": "webdav", "server": "dav.lan", "path": "/files/me", "port": 8443, "ssl": True}
    assert format_source(config) == "https://dav.lan:8443/files/me"
    assert format_source({**config, "port": 443}) == "https://dav.lan/files/me"


@pytest.mark.parametrize(("backend", "text"), [("azure", "azure://"), ("s3", "bucket-only"), ("sftp", "host:/x")])
def test_a_location_that_does_not_fit_names_the_expected_form(backend: str, text: str) -> None:
    with pytest.raises(NotationError, match=r"expected .*Nothing was sent"):
        parse_location(backend, text)


policies = st.dictionaries(
    st.sampled_from([k for k in KEEP_KEYS.values() if k != "keepWithinDuration"]),
    st.integers(min_value=1, max_value=9999),
).flatmap(
    lambda counts: st.one_of(
        st.just(counts),
        st.from_regex(r"(\d{1,3}[ymdh]){1,3}", fullmatch=True).map(
            lambda within: {**counts, "keepWithinDuration": within}
        ),
    )
)


@given(policies)
def test_retention_as_shown_is_read_back_as_the_same_policy(policy: dict[str, Any]) -> None:
    assert parse_retention(format_retention(policy) or "") == policy


def test_retention_reads_the_forms_agents_write() -> None:
    assert parse_retention("keep last 5; daily=7, within 30d") == {
        "keepLast": 5,
        "keepDaily": 7,
        "keepWithinDuration": "30d",
    }
    assert parse_retention("daily 0") == {"keepDaily": None}
    with pytest.raises(NotationError, match="rules: last"):
        parse_retention("biweekly 2")


KINDS: dict[OptionKind, st.SearchStrategy[Any]] = {
    "int": st.integers(min_value=-999_999, max_value=999_999),
    "bool": st.booleans(),
    "list": st.lists(st.from_regex(r"[A-Za-z0-9*._/-]([A-Za-z0-9*._ /-]{0,8}[A-Za-z0-9*._/-])?", fullmatch=True)),
    "str": st.from_regex(r"[A-Za-z0-9:/._=-]([A-Za-z0-9:/._= -]{0,10}[A-Za-z0-9:/._=-])?", fullmatch=True),
}
option_sets = st.dictionaries(st.sampled_from(["a_key", "b_key", "c_key"]), st.sampled_from(sorted(KINDS))).flatmap(
    lambda kinds: st.fixed_dictionaries({key: KINDS[kind] for key, kind in kinds.items()}).map(
        lambda values: (kinds, values)
    )
)


@given(option_sets)
def test_options_as_shown_are_read_back_as_the_same_values(case: tuple[dict[str, OptionKind], dict[str, Any]]) -> None:
    kinds, values = case
    assert parse_options(format_options(values), kinds, "tests") == values
