"""Settings: precedence, normalisation, and the exact error texts a user reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_server.config import ConfigError, Secret, Settings, load_settings

KEY = "zb_test_key_0123456789"
OTHER_KEY = "zb_other_key_987654321"
TOKEN = "http-token-0123456789abcdef"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ./config.toml is part of the lookup, so every test runs in an empty folder of its own.
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


def make_env(tmp_path: Path, **values: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **values}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(**kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert KEY not in message
    assert OTHER_KEY not in message
    assert TOKEN not in message
    return message


# --- happy paths and precedence ------------------------------------------------------------------------------


def test_environment_alone_is_enough(tmp_path: Path) -> None:
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="https://zb.example.com", ZEROBYTE_API_KEY=KEY))
    assert settings.url == "https://zb.example.com"
    assert settings.api_key == Secret(KEY)
    assert settings.access == "read-only"
    assert settings.sources["url"] == "environment ZEROBYTE_URL"
    assert settings.sources["access"] == "default"
    assert settings.config_file is None


def test_defaults_match_the_documented_values(tmp_path: Path) -> None:
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="http://zb:4096", ZEROBYTE_API_KEY=KEY))
    assert (settings.connect_timeout, settings.read_timeout, settings.heavy_timeout) == (5, 30, 300)
    assert settings.verify_tls is True
    assert settings.confirm_destructive is True
    assert settings.confirm_ttl_seconds == 300
    assert settings.task_wait_seconds == 120
    assert settings.max_response_chars == 32000
    assert (settings.http_host, settings.http_port, settings.http_path) == ("127.0.0.1", 8765, "/mcp")
    assert settings.http_allow_unauthenticated is False
    assert settings.log_level == "INFO"
    assert settings.log_json is False
    # The audit log has its own owner-only file by default: nothing on stderr can pass for an audit line.
    assert settings.audit_log == tmp_path / "home" / ".local" / "state" / "zerobyte-mcp" / "audit.jsonl"
    assert settings.restore_allowed_roots == () and settings.volume_allowed_roots == ()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://zb.example.com", "https://zb.example.com"),
        ("https://zb.example.com/", "https://zb.example.com"),
        ("https://zb.example.com/api/v1", "https://zb.example.com"),
        ("https://zb.example.com/api/v1/", "https://zb.example.com"),
        ("  HTTP://zb.example.com:4096//  ", "http://zb.example.com:4096"),
        ("https://example.com/zerobyte/api/v1", "https://example.com/zerobyte"),
        ("http://[::1]:4096", "http://[::1]:4096"),
    ],
)
def test_url_is_normalised_to_the_base_without_api_v1(tmp_path: Path, given: str, expected: str) -> None:
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL=given, ZEROBYTE_API_KEY=KEY))
    assert settings.url == expected


def test_config_file_is_read_and_its_tables_map_to_settings(tmp_path: Path) -> None:
    ca = write(tmp_path / "conf" / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    write(tmp_path / "conf" / "key", f"{KEY}\n")
    config = write(
        tmp_path / "conf" / "config.toml",
        """
url = "https://zb.example.com/api/v1/"
api_key_file = "key"
access = "operate"
confirm_destructive = false
confirm_ttl_seconds = 60
audit_log = "audit.jsonl"
max_response_chars = 5000

[timeouts]
connect = 2
read = 10.5
heavy = 600

[tls]
verify = false
ca_bundle = "ca.pem"

[tools]
allow = ["list_volumes", "list_volumes"]
deny = ["delete_volume"]
toolsets_allow = ["volumes"]
toolsets_deny = ["system"]

[restore]
allowed_roots = ["/srv/restore/", "/srv//other/../tmp", "/srv/restore"]

[tasks]
wait_seconds = 0

[http]
host = "0.0.0.0"
port = 9000
path = "/zerobyte/"
token = "http-token-0123456789abcdef"
allow_unauthenticated = true
allowed_hosts = ["mcp.example.com"]
allowed_origins = ["https://mcp.example.com"]

[logging]
level = "debug"
json = true
""",
    )
    settings = load_settings(config_path=config, env=make_env(tmp_path))
    conf = config.parent
    assert settings.url == "https://zb.example.com"
    assert settings.api_key == Secret(KEY)
    assert settings.api_key_file == conf / "key"
    assert settings.access == "operate"
    assert settings.confirm_destructive is False
    assert settings.confirm_ttl_seconds == 60
    assert settings.audit_log == conf / "audit.jsonl"
    assert settings.max_response_chars == 5000
    assert (settings.connect_timeout, settings.read_timeout, settings.heavy_timeout) == (2.0, 10.5, 600.0)
    assert settings.verify_tls is False
    assert settings.ca_bundle == ca
    assert settings.tools_allow == ("list_volumes",)
    assert settings.tools_deny == ("delete_volume",)
    assert settings.toolsets_allow == ("volumes",)
    assert settings.toolsets_deny == ("system",)
    assert settings.restore_allowed_roots == ("/srv/restore", "/srv/tmp")
    assert settings.task_wait_seconds == 0
    assert (settings.http_host, settings.http_port, settings.http_path) == ("0.0.0.0", 9000, "/zerobyte")
    assert settings.http_token == Secret(TOKEN)
    assert settings.http_allow_unauthenticated is True
    assert settings.http_allowed_hosts == ("mcp.example.com",)
    assert settings.http_allowed_origins == ("https://mcp.example.com",)
    assert settings.log_level == "DEBUG"
    assert settings.log_json is True
    assert settings.config_file == config
    assert settings.sources["http_port"] == f"config file {config}"
    assert settings.sources["api_key"] == f"file {conf / 'key'}"
    assert settings.sources["config_file"] == "command line --config"


def test_example_config_loads_as_shipped(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    write(Path(env["HOME"]) / ".config" / "zerobyte-mcp" / "key", KEY)
    settings = load_settings(config_path=REPO_ROOT / "config.example.toml", env=env)
    defaults = Settings(url="https://zerobyte.example.com")
    assert settings.url == defaults.url
    assert settings.api_key == Secret(KEY)
    for name in (
        "connect_timeout",
        "read_timeout",
        "heavy_timeout",
        "verify_tls",
        "access",
        "confirm_destructive",
        "confirm_ttl_seconds",
        "max_response_chars",
        "task_wait_seconds",
        "http_host",
        "http_port",
        "http_path",
        "http_allow_unauthenticated",
        "log_level",
        "log_json",
    ):
        assert getattr(settings, name) == getattr(defaults, name), name


def test_environment_overrides_the_config_file(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://file.example.com"\naccess = "full"\n')
    env = make_env(
        tmp_path, ZEROBYTE_URL="https://env.example.com", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_ACCESS="operate"
    )
    settings = load_settings(config_path=config, env=env)
    assert settings.url == "https://env.example.com"
    assert settings.access == "operate"
    assert settings.sources["access"] == "environment ZEROBYTE_MCP_ACCESS"


def test_command_line_overrides_the_environment(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://env.example.com", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_ACCESS="full")
    settings = load_settings(env=env, overrides={"access": "read-only", "http_port": "9999", "log_json": None})
    assert settings.access == "read-only"
    assert settings.http_port == 9999
    assert settings.log_json is False
    assert settings.sources["access"] == "command line --access"
    assert settings.sources["http_port"] == "command line --port"
    assert settings.sources["log_json"] == "default"


def test_every_documented_environment_variable_is_read(tmp_path: Path) -> None:
    token_file = write(tmp_path / "token", TOKEN)
    env = make_env(
        tmp_path,
        ZEROBYTE_URL="https://zb.example.com",
        ZEROBYTE_API_KEY=KEY,
        ZEROBYTE_MCP_ACCESS="FULL",
        ZEROBYTE_MCP_LOG_LEVEL="warning",
        ZEROBYTE_MCP_HTTP_TOKEN_FILE=str(token_file),
        ZEROBYTE_MCP_AUDIT_LOG="audit.jsonl",
        ZEROBYTE_MCP_CONFIRM_DESTRUCTIVE="false",
        ZEROBYTE_MCP_RESTORE_ROOTS=f"/srv/a{os.pathsep}/srv/b/,/srv/c",
    )
    settings = load_settings(env=env)
    assert settings.access == "full"
    assert settings.log_level == "WARNING"
    assert settings.read_http_token() == Secret(TOKEN)
    assert settings.audit_log == Path.cwd() / "audit.jsonl"
    assert settings.confirm_destructive is False
    assert settings.restore_allowed_roots == ("/srv/a", "/srv/b", "/srv/c")


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://file.example.com"\napi_key = "zb_test_key_0123456789"\n')
    env = make_env(tmp_path, ZEROBYTE_URL="", ZEROBYTE_API_KEY="", ZEROBYTE_MCP_ACCESS="")
    settings = load_settings(config_path=config, env=env)
    assert settings.url == "https://file.example.com"
    assert settings.api_key == Secret(KEY)


def test_key_file_wins_over_a_literal_key_at_the_same_level(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", OTHER_KEY)
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_API_KEY_FILE=str(key_file))
    settings = load_settings(env=env)
    assert settings.api_key == Secret(OTHER_KEY)
    assert settings.api_key_file == key_file
    assert settings.sources["api_key_file"] == "environment ZEROBYTE_API_KEY_FILE"


def test_a_literal_key_in_the_environment_wins_over_a_key_file_in_the_config_file(tmp_path: Path) -> None:
    write(tmp_path / "key", OTHER_KEY)
    config = write(tmp_path / "config.toml", 'url = "https://zb"\napi_key_file = "key"\n')
    settings = load_settings(config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert settings.api_key == Secret(KEY)
    assert settings.api_key_file is None
    assert settings.sources["api_key"] == "environment ZEROBYTE_API_KEY"


def test_read_api_key_rereads_the_key_file_so_a_rotated_key_works(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", KEY)
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(key_file)))
    assert settings.read_api_key() == Secret(KEY)
    key_file.write_text(OTHER_KEY + "\n", encoding="utf-8")
    assert settings.read_api_key() == Secret(OTHER_KEY)


def test_read_api_key_returns_the_literal_key(tmp_path: Path) -> None:
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY))
    assert settings.read_api_key().reveal() == KEY


def test_read_api_key_reports_a_key_file_that_went_bad(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", KEY)
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(key_file)))
    key_file.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        settings.read_api_key()
    assert str(info.value) == f"API key file {key_file} (set by environment ZEROBYTE_API_KEY_FILE) is empty"


def test_tilde_in_paths_means_the_home_folder(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE="~/zb.key")
    write(Path(env["HOME"]) / "zb.key", KEY)
    assert load_settings(env=env).api_key_file == Path(env["HOME"]) / "zb.key"


def test_no_key_is_fine_when_not_required(tmp_path: Path) -> None:
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_URL="https://zb"), require_key=False)
    assert settings.api_key is None


# --- config file lookup ---------------------------------------------------------------------------------------


def test_config_file_is_named_by_zerobyte_mcp_config(tmp_path: Path) -> None:
    config = write(tmp_path / "elsewhere.toml", 'url = "https://named.example.com"\n')
    env = make_env(tmp_path, ZEROBYTE_MCP_CONFIG=str(config), ZEROBYTE_API_KEY=KEY)
    settings = load_settings(env=env)
    assert settings.url == "https://named.example.com"
    assert settings.sources["config_file"] == "environment ZEROBYTE_MCP_CONFIG"


def test_config_toml_in_the_current_folder_is_found(tmp_path: Path) -> None:
    write(Path.cwd() / "config.toml", 'url = "https://local.example.com"\n')
    settings = load_settings(env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert settings.url == "https://local.example.com"
    assert settings.sources["config_file"] == "found in the current folder"


def test_config_in_xdg_config_home_is_found(tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "zerobyte-mcp" / "config.toml", 'url = "https://xdg.example.com"\n')
    env = make_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"), ZEROBYTE_API_KEY=KEY)
    assert load_settings(env=env).url == "https://xdg.example.com"


def test_config_in_home_dot_config_is_found_without_xdg_config_home(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_API_KEY=KEY)
    write(Path(env["HOME"]) / ".config" / "zerobyte-mcp" / "config.toml", 'url = "https://home.example.com"\n')
    assert load_settings(env=env).url == "https://home.example.com"


def test_the_current_folder_wins_over_the_user_config_folder(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_API_KEY=KEY)
    write(Path(env["HOME"]) / ".config" / "zerobyte-mcp" / "config.toml", 'url = "https://home.example.com"\n')
    write(Path.cwd() / "config.toml", 'url = "https://local.example.com"\n')
    assert load_settings(env=env).url == "https://local.example.com"


# --- describe -------------------------------------------------------------------------------------------------


def test_the_audit_log_follows_xdg_state_home_and_goes_to_stderr_only_when_asked(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, XDG_STATE_HOME=str(tmp_path / "st"))
    assert load_settings(env=env).audit_log == tmp_path / "st" / "zerobyte-mcp" / "audit.jsonl"
    assert load_settings(env={**env, "ZEROBYTE_MCP_AUDIT_LOG": "stderr"}).audit_log is None


def test_a_relative_xdg_folder_is_ignored_like_the_xdg_spec_says_for_every_default_file(tmp_path: Path) -> None:
    relative = {name: "rel" for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, **relative)
    write(Path.cwd() / "rel" / "zerobyte-mcp" / "config.toml", 'url = "https://relative.example.com"\n')
    settings = load_settings(env=env)
    home = Path(env["HOME"])
    assert settings.audit_log == home / ".local" / "state" / "zerobyte-mcp" / "audit.jsonl"
    assert settings.catalog_path == home / ".cache" / "zerobyte-mcp" / "catalog.sqlite"
    assert settings.config_file is None and settings.url == "https://zb"


def test_describe_shows_sources_and_never_the_secrets(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_HTTP_TOKEN=TOKEN)
    rows = {name: (shown, source) for name, shown, source in load_settings(env=env).describe()}
    assert rows["url"] == ("https://zb", "environment ZEROBYTE_URL")
    assert rows["api_key"] == ("<redacted>", "environment ZEROBYTE_API_KEY")
    assert rows["http_token"] == ("<redacted>", "environment ZEROBYTE_MCP_HTTP_TOKEN")
    assert rows["api_key_file"] == ("not set", "default")
    assert rows["audit_log"][1] == "default" and rows["audit_log"][0].endswith("zerobyte-mcp/audit.jsonl")
    assert rows["tools_allow"] == ("(none)", "default")
    assert rows["verify_tls"] == ("true", "default")
    assert "sources" not in rows
    assert KEY not in repr(rows)
    assert TOKEN not in repr(rows)


def test_secrets_hide_in_repr_and_str() -> None:
    secret = Secret(KEY)
    settings = Settings(url="https://zb", api_key=secret)
    assert str(secret) == repr(secret) == "<redacted>"
    assert KEY not in repr(settings)
    assert secret.reveal() == KEY


# --- errors a user reads --------------------------------------------------------------------------------------


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(tmp_path, config_path=missing, env=make_env(tmp_path))
    assert message == f"Config file {missing} (given with --config) does not exist"


def test_missing_config_file_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(tmp_path, env=make_env(tmp_path, ZEROBYTE_MCP_CONFIG=str(missing)))
    assert message == f"Config file {missing} (named by ZEROBYTE_MCP_CONFIG in the environment) does not exist"


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\naccess read-only\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path))
    assert message.startswith(f"Config file {config} is not valid TOML: ")
    assert "line 2" in message


def test_missing_url_is_an_error_that_says_where_to_set_it(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_API_KEY=KEY)
    message = config_error(tmp_path, env=env)
    user_file = Path(env["HOME"]) / ".config" / "zerobyte-mcp" / "config.toml"
    assert message == (
        "No Zerobyte URL: set ZEROBYTE_URL or url in a config file (none found at "
        f"{Path.cwd() / 'config.toml'} or {user_file}), for example https://zerobyte.example.com"
    )


def test_missing_url_names_the_config_file_that_was_read(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'access = "full"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"No Zerobyte URL: set ZEROBYTE_URL or url in {config}, for example https://zerobyte.example.com"


def test_missing_key_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, env=make_env(tmp_path, ZEROBYTE_URL="https://zb"))
    assert message == (
        "No Zerobyte API key: set ZEROBYTE_API_KEY or ZEROBYTE_API_KEY_FILE, or api_key_file in config.toml"
    )


def test_key_without_zb_prefix_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    bad = "sk_live_not_a_zerobyte_key"
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=bad)
    message = config_error(tmp_path, env=env)
    assert message == (
        "ZEROBYTE_API_KEY (from environment) does not start with zb_: "
        "Zerobyte API keys look like zb_…; create one in Zerobyte → Settings → API keys"
    )
    assert bad not in message


def test_key_file_without_zb_prefix_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", "Bearer zb_test_key_0123456789")
    config = write(tmp_path / "config.toml", 'url = "https://zb"\napi_key_file = "key"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path))
    assert message == (
        f"API key file {key_file} (set by config file {config}) does not start with zb_: "
        "Zerobyte API keys look like zb_…; create one in Zerobyte → Settings → API keys"
    )


def test_key_with_spaces_inside_is_rejected(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", f"{KEY}\n{OTHER_KEY}\n")
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(key_file))
    message = config_error(tmp_path, env=env)
    assert message == (
        f"API key file {key_file} (set by environment ZEROBYTE_API_KEY_FILE) contains spaces or line breaks: "
        "it should hold only the key"
    )


def test_unreadable_key_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-key"
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(missing))
    message = config_error(tmp_path, env=env)
    assert message == (
        f"Cannot read API key file {missing} (set by environment ZEROBYTE_API_KEY_FILE): No such file or directory"
    )


def test_unreadable_key_file_is_an_error_even_when_no_key_is_required(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(tmp_path / "no-such-key"))
    assert config_error(tmp_path, env=env, require_key=False).startswith("Cannot read API key file")


def test_empty_key_file_is_an_error(tmp_path: Path) -> None:
    key_file = write(tmp_path / "key", "  \n")
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY_FILE=str(key_file))
    message = config_error(tmp_path, env=env)
    assert message == f"API key file {key_file} (set by environment ZEROBYTE_API_KEY_FILE) is empty"


def test_unknown_setting_suggests_the_closest_name(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\n[http]\nprot = 9000\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"Unknown setting 'prot' in [http] of {config}; did you mean 'port'?"


def test_unknown_top_level_setting_suggests_the_closest_name(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\nacess = "full"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"Unknown setting 'acess' in the top level of {config}; did you mean 'access'?"


def test_a_setting_in_the_wrong_place_points_to_its_table(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\nlog_level = "DEBUG"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"Unknown setting 'log_level' in the top level of {config}; did you mean [logging] level?"


def test_unknown_table_suggests_the_closest_table(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\n[timeout]\nread = 5\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"Unknown table [timeout] in {config}; did you mean [timeouts]?"


def test_wrong_type_names_the_setting_and_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\n[http]\nport = "x"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert (
        message == f"[http] port in {config} must be a port number from 0 (any free port) to 65535, got a string ('x')"
    )


def test_a_scalar_where_a_table_belongs_is_a_type_error(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\ntimeouts = 5\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"timeouts in {config} must be a table ([timeouts]), got 5"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[timeouts]\nread = 0", "[timeouts] read in {f} must be a number of seconds greater than 0, got 0"),
        ("[timeouts]\nread = true", "[timeouts] read in {f} must be a number of seconds greater than 0, got true"),
        ("[tls]\nverify = 1", "[tls] verify in {f} must be true or false, got 1"),
        ('[tls]\nverify = "no"', "[tls] verify in {f} must be true or false, got a string ('no')"),
        ("[tools]\nallow = [1]", "[tools] allow in {f} must be a list of strings, got a list"),
        ("[tasks]\nwait_seconds = -1", "[tasks] wait_seconds in {f} must be a number of seconds, 0 or more, got -1"),
        ("[http]\nport = 70000", "[http] port in {f} must be a port number from 0 (any free port) to 65535, got 70000"),
        (
            '[http]\npath = "mcp"',
            "[http] path in {f} must be a URL path starting with / (like /mcp), got a string ('mcp')",
        ),
        ("[http]\ntoken = 5", "[http] token in {f} must be a non-empty string, got a number"),
        (
            '[logging]\nlevel = "LOUD"',
            "[logging] level in {f} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got a string ('LOUD')",
        ),
        (
            "confirm_ttl_seconds = 0",
            "confirm_ttl_seconds in {f} must be a whole number of seconds from 1 to 86400, got 0",
        ),
    ],
)
def test_invalid_values_are_reported_with_setting_and_source(tmp_path: Path, toml: str, expected: str) -> None:
    config = write(tmp_path / "config.toml", f'url = "https://zb"\n{toml}\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == expected.format(f=config)


def test_wrong_type_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_CONFIRM_DESTRUCTIVE="maybe")
    message = config_error(tmp_path, env=env)
    assert (
        message == "ZEROBYTE_MCP_CONFIRM_DESTRUCTIVE (from environment) must be true or false, got a string ('maybe')"
    )


def test_wrong_type_from_the_command_line_names_the_flag(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY)
    message = config_error(tmp_path, env=env, overrides={"http_port": "eighty"})
    assert (
        message
        == "--port (from command line) must be a port number from 0 (any free port) to 65535, got a string ('eighty')"
    )


def test_unknown_command_line_setting_is_an_error(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY)
    assert config_error(tmp_path, env=env, overrides={"acces": "full"}) == "Unknown setting --acces (from command line)"


def test_invalid_access_level_lists_the_three(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_ACCESS="admin")
    message = config_error(tmp_path, env=env)
    assert (
        message
        == "ZEROBYTE_MCP_ACCESS (from environment) must be one of read-only, operate, full, got a string ('admin')"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "ftp://zb.example.com",
            "ZEROBYTE_URL (from environment) must start with http:// or https://, got 'ftp://zb.example.com'; "
            "for example https://zerobyte.example.com",
        ),
        (
            "zb.example.com",
            "ZEROBYTE_URL (from environment) must start with http:// or https://, got 'zb.example.com'; "
            "for example https://zerobyte.example.com",
        ),
        (
            "https:///api/v1",
            "ZEROBYTE_URL (from environment) has no host name ('https:///api/v1'); "
            "for example https://zerobyte.example.com",
        ),
        (
            "https://zb.example.com:port",
            "ZEROBYTE_URL (from environment) is not a valid URL ('https://zb.example.com:port'); "
            "for example https://zerobyte.example.com",
        ),
        (
            "https://zb.example.com/?x=1",
            "ZEROBYTE_URL (from environment) must not contain ?query or #fragment parts "
            "('https://zb.example.com/?x=1'); for example https://zerobyte.example.com",
        ),
    ],
)
def test_invalid_url_is_explained(tmp_path: Path, url: str, expected: str) -> None:
    message = config_error(tmp_path, env=make_env(tmp_path, ZEROBYTE_URL=url, ZEROBYTE_API_KEY=KEY))
    assert message == expected


def test_url_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://admin:hunter2pass@zb.example.com", ZEROBYTE_API_KEY=KEY)
    message = config_error(tmp_path, env=env)
    assert message == (
        "ZEROBYTE_URL (from environment) must not contain a user name or password; "
        "Zerobyte authenticates with the API key"
    )
    assert "hunter2pass" not in message


def test_relative_restore_root_is_refused(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_RESTORE_ROOTS="srv/restore")
    message = config_error(tmp_path, env=env)
    assert message == (
        "ZEROBYTE_MCP_RESTORE_ROOTS (from environment): 'srv/restore' is not an absolute path; "
        "restore roots are folders on the Zerobyte server, like /srv/restore"
    )


def test_missing_ca_bundle_is_an_error(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\n[tls]\nca_bundle = "ca.pem"\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path, ZEROBYTE_API_KEY=KEY))
    assert message == f"[tls] ca_bundle in {config} names {tmp_path / 'ca.pem'}, which is not a file"


def test_short_http_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    env = make_env(tmp_path, ZEROBYTE_URL="https://zb", ZEROBYTE_API_KEY=KEY, ZEROBYTE_MCP_HTTP_TOKEN="short1")
    message = config_error(tmp_path, env=env)
    assert message == (
        "ZEROBYTE_MCP_HTTP_TOKEN (from environment) must be at least 16 characters without spaces; make one with "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    )
    assert "short1" not in message


def test_a_secret_of_the_wrong_type_is_not_echoed(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", 'url = "https://zb"\napi_key = ["zb_test_key_0123456789"]\n')
    message = config_error(tmp_path, config_path=config, env=make_env(tmp_path))
    assert message == f"api_key in {config} must be a non-empty string, got a list"
