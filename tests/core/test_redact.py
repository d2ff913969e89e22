"""What leaves the process as text (issue 26): no secret in any encoding, no URL user information,
no raw control character, no lone surrogate that would crash the output."""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from spectryn_core.redact import REDACTED, Redactor, SafeStream, clean

SECRET = "spx-redact-Zq81Lm3Vd/+="


def redactor(*secrets: str) -> Redactor:
    made = Redactor()
    made.add(secrets)
    return made


def test_a_secret_and_its_encodings_are_replaced() -> None:
    redact = redactor(SECRET)
    for form in (SECRET, f"Bearer {SECRET}", quote(SECRET, safe=""), json.dumps(SECRET)[1:-1]):
        assert redact(f"before {form} after") == f"before {'Bearer ' if 'Bearer' in form else ''}" \
                                                 f"{REDACTED} after"
    body = json.dumps({"error": {"message": f"token {SECRET} refused"}})
    assert SECRET not in redact(body) and REDACTED in redact(body)


def test_basic_credentials_are_replaced_whatever_the_user_name() -> None:
    redact = redactor(SECRET)
    for user in ("a", "ab", "abc", "dev@example.com", "x" * 31):
        encoded = base64.b64encode(f"{user}:{SECRET}".encode()).decode()
        assert redact(f"Authorization: Basic {encoded}\n") == f"Authorization: Basic {REDACTED}\n"


@settings(max_examples=200, deadline=None)
@given(secret=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=8, max_size=40),
       user=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
       after=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=5))
def test_no_base64_of_any_text_holding_the_secret_survives(secret: str, user: str, after: str) -> None:
    encoded = base64.b64encode(f"{user}:{secret}{after}".encode()).decode()
    shown = redactor(secret)(f"x {encoded} y")
    assert secret not in shown and encoded not in shown
    assert shown.startswith("x ") and shown.endswith(" y")


def test_url_user_information_is_never_shown() -> None:
    redact = Redactor()
    assert redact("base_url = https://me:pw@bitbucket.example/2.0 (from env)") == \
        f"base_url = https://{REDACTED}@bitbucket.example/2.0 (from env)"
    assert redact("mail me@example.com, see https://example.com/a@b") == \
        "mail me@example.com, see https://example.com/a@b"
    redact.url_secrets(["https://me:a-long-password@host/2.0", "not a url", 3])
    assert redact("password a-long-password") == f"password {REDACTED}"


def test_short_values_are_not_secrets_to_search_for() -> None:
    assert redactor("abc", "")("abc abc") == "abc abc"


def test_control_characters_are_shown_not_obeyed() -> None:
    title = "Login\x1b[2K\x1b[1A\rFAKE LOG LINE\x07 \u202eevil\u202c \ud800 tab\there\r\n"
    assert clean(title) == ("Login\\x1b[2K\\x1b[1A\\x0dFAKE LOG LINE\\x07 \\u202eevil\\u202c "
                            "\\ud800 tab\there\r\n")
    assert clean("plain ✅ emoji 👩‍💻 stays\n") == "plain ✅ emoji 👩‍💻 stays\n"


def test_a_safe_stream_writes_what_a_utf8_stream_can_encode() -> None:
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8")
    stream = SafeStream(text)
    print("title \ud800 and \x1b[31mred", file=stream)
    stream.flush()
    assert raw.getvalue() == b"title \\ud800 and \\x1b[31mred\n"
