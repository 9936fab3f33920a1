from __future__ import annotations

import pytest

from assistant.redact import MASK, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("clone https://alice:hunter2pass@github.com/acme/x.git", "hunter2pass"),
        ("https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/a/b", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
        ("token glpat-abcdefghij0123456789xy used", "glpat-abcdefghij0123456789xy"),
        ("aws key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE"),
        ("password=Sup3rS3cret!", "Sup3rS3cret!"),
        ('{"api_key": "abcd1234efgh"}', "abcd1234efgh"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9.payload.sig"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n-----END OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1r",
        ),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert MASK in masked


def test_ordinary_text_is_untouched() -> None:
    text = 'run etl_daily with conf {"date": "2024-01-01"} from https://github.com/acme/dags.git'
    assert redact(text) == text
