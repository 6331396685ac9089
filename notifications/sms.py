"""Text messages (patient links) through the backend ``settings.SMS_BACKEND`` names:

- ``console``: written to stderr (a developer's terminal);
- ``file``: appended as a JSON line to ``VAR_DIR/sms.log`` (the default; development, tests);
- ``http``: POSTed as JSON ``{"to", "text", "from"}`` to ``SMS_HTTP_URL`` with
  ``Authorization: Bearer SMS_HTTP_TOKEN`` (an SMS gateway, or a small adapter in front of one).

The text of an SMS may hold a secret link: the console and file backends are for development.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from coordination.errors import CoordinationError

# E.164: a plus, a country code not starting with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# What people type between digits; removed before checking.
_SEPARATORS = re.compile(r"[\s().\-]")

_file_lock = threading.Lock()


class SmsFailed(Exception):
    """The backend could not hand the message over (the gateway refused it or did not answer)."""


def normalise_phone(phone: str) -> str:
    """The number in E.164 (``+33612345678``), spaces, dots, dashes and brackets removed;
    else ``phone_invalid``."""
    number = _SEPARATORS.sub("", phone or "")
    if not E164.fullmatch(number):
        raise CoordinationError("phone_invalid")
    return number


def send_sms(phone: str, text: str) -> None:
    """Send ``text`` to ``phone``. Raises ``phone_invalid`` or :class:`SmsFailed`."""
    number = normalise_phone(phone)
    backend = settings.SMS_BACKEND
    if backend == "console":
        _console(number, text)
    elif backend == "file":
        _file(number, text)
    elif backend == "http":
        _http(number, text)
    else:
        raise SmsFailed(f"unknown SMS_BACKEND {backend!r}")


def _console(number: str, text: str) -> None:
    sys.stderr.write(f"SMS to {number}: {text}\n")
    sys.stderr.flush()


def _file(number: str, text: str) -> None:
    line = json.dumps(
        {"at": timezone.now().isoformat(), "to": number, "text": text}, ensure_ascii=False
    )
    path = settings.VAR_DIR / "sms.log"
    with _file_lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _http(number: str, text: str) -> None:
    url = settings.SMS_HTTP_URL
    if urlsplit(url).scheme not in {"http", "https"}:
        raise SmsFailed("SMS_HTTP_URL is not an http(s) URL")
    body = {"to": number, "text": text}
    if settings.SMS_SENDER:
        body["from"] = settings.SMS_SENDER
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise SmsFailed(f"the SMS gateway answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SmsFailed(f"the SMS gateway could not be reached: {type(exc).__name__}") from None
