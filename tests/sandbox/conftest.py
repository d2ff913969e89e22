"""Fixtures the sandbox's API tests share: ``http`` is a session with the sync's access token
for the ``sb`` sandbox a test module defines."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def http(sb):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.token}"
    yield session
    session.close()
