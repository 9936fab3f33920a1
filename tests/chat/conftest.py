"""Fixtures shared by the chat tests."""

from __future__ import annotations

import pytest

from assistant.chat.router_data import vocabulary
from assistant.chat.router_text import TypoCorrector


@pytest.fixture(scope="module")
def corrector() -> TypoCorrector:
    return TypoCorrector(vocabulary())
