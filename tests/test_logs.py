"""Logging: stderr only, JSON lines on request, idempotent set-up, and no secrets in output."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from mcp_server.cli.logs import setup_logging

KEY = "zb_test_key_0123456789"
TOKEN = "http-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "uvicorn.access")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if type(h).__name__ == "_StderrHandler"]


def test_logs_go_to_stderr_and_never_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    logging.getLogger("mcp_server.test").info("hello %s", "world")
    out, err = capsys.readouterr()
    assert out == ""
    assert "INFO mcp_server.test: hello world" in err


def test_setting_up_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    setup_logging("DEBUG", json=True)
    assert len(ours()) == 1
    logging.getLogger("mcp_server.test").debug("once")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["message"] == "once"


def test_level_filters_records(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("warning")
    logging.getLogger("mcp_server.test").info("hidden")
    logging.getLogger("mcp_server.test").warning("shown")
    err = capsys.readouterr().err
    assert "hidden" not in err
    assert "shown" in err


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        setup_logging("LOUD")


def test_json_lines_carry_time_level_logger_message_and_extras(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", json=True)
    logging.getLogger("mcp_server.safety.audit").info(
        "tool %s called", "list_volumes", extra={"tool": "list_volumes", "ms": 12}
    )
    entry = json.loads(capsys.readouterr().err)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "mcp_server.safety.audit"
    assert entry["message"] == "tool list_volumes called"
    assert entry["tool"] == "list_volumes"
    assert entry["ms"] == 12
    assert entry["time"].endswith("+00:00")


def test_current_secrets_are_redacted_from_message_and_args(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=lambda: [TOKEN])
    logging.getLogger("mcp_server.test").info("token %s and again " + TOKEN, TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "token <redacted> and again <redacted>" in err


def test_secrets_are_read_at_log_time_so_a_rotated_secret_is_covered(capsys: pytest.CaptureFixture[str]) -> None:
    current = ["first-secret-value"]
    setup_logging("INFO", secrets=lambda: current)
    current[0] = "second-secret-value"
    logging.getLogger("mcp_server.test").info("using second-secret-value")
    assert "second-secret-value" not in capsys.readouterr().err


def test_key_shaped_and_sealed_values_are_redacted_without_being_told(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", json=True)
    logging.getLogger("mcp_server.test").warning(
        "request with %s failed: %s",
        KEY,
        "config encv1:aa:bb:cc",
        extra={"url": "https://u:pw@h/x", "body": {"password": "pw"}},
    )
    entry = json.loads(capsys.readouterr().err)
    assert entry["message"] == "request with <redacted> failed: config <redacted>"
    assert entry["url"] == "https://<redacted>@h/x"
    assert entry["body"] == {"password": "<redacted>"}


def test_tracebacks_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    try:
        raise RuntimeError(f"upstream refused {KEY}")
    except RuntimeError:
        logging.getLogger("mcp_server.test").exception("call failed")
    err = capsys.readouterr().err
    assert "RuntimeError: upstream refused <redacted>" in err
    assert KEY not in err


def test_a_failing_secrets_callback_does_not_break_logging(capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> list[str]:
        raise OSError("key file gone")

    setup_logging("INFO", secrets=broken)
    logging.getLogger("mcp_server.test").info("still logging %s", KEY)
    err = capsys.readouterr().err
    assert "still logging <redacted>" in err


def test_noisy_libraries_are_quiet_unless_debugging() -> None:
    setup_logging("INFO")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("uvicorn.access").getEffectiveLevel() == logging.WARNING
    setup_logging("DEBUG")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("uvicorn.access").getEffectiveLevel() == logging.DEBUG


def test_text_format_appends_extras(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    logging.getLogger("mcp_server.test").info("done", extra={"task_id": "t-1"})
    assert "mcp_server.test: done task_id='t-1'" in capsys.readouterr().err
