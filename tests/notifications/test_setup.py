"""The task queue's modes, and the VAPID keys: generated once, or made by the command."""

from __future__ import annotations

import json
import threading
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from celery import shared_task
from django.core.management import CommandError, call_command
from django.db import transaction

from coordination import taskqueue
from notifications import vapid

ran: list[tuple[str, int]] = []
done = threading.Event()


@shared_task(name="tests.notifications.record")
def record(value: int) -> None:
    ran.append((threading.current_thread().name, value))
    done.set()


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()
    done.clear()


def test_inline_tasks_run_after_commit_in_the_committing_thread(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        taskqueue.enqueue(record, 1)
        assert ran == []
    assert ran == [(threading.current_thread().name, 1)]


def test_a_task_of_a_rolled_back_change_never_runs(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    def failing_change() -> None:
        with transaction.atomic():
            taskqueue.enqueue(record, 1)
            raise ZeroDivisionError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ZeroDivisionError):
        failing_change()
    assert ran == []


def test_thread_mode_runs_the_task_in_a_background_thread(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS_MODE = "thread"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        taskqueue.enqueue(record, 2)
    assert done.wait(10)
    taskqueue.wait_for_threads()
    assert ran[0][1] == 2
    assert ran[0][0].startswith("task")


def test_an_unknown_mode_is_refused(settings: Any) -> None:
    settings.TASKS_MODE = "carrier-pigeon"
    with pytest.raises(ValueError, match="TASKS_MODE"):
        taskqueue.enqueue(record, 3)


def test_the_embedded_vapid_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "vapid.json"
    first = vapid.load_or_create(path)
    assert vapid.load_or_create(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    private, public = first
    assert len(vapid.b64url_decode(private)) == 32
    assert vapid.b64url_decode(public)[0] == 4
    assert len(vapid.b64url_decode(public)) == 65


def test_the_command_prints_a_fresh_key_pair() -> None:
    out = StringIO()
    call_command("create_vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    assert set(lines) == {"VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"}
    assert len(vapid.b64url_decode(lines["VAPID_PUBLIC_KEY"])) == 65


def test_the_command_writes_the_key_file_unless_the_environment_sets_keys(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("VAPID_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("VAPID_PUBLIC_KEY", raising=False)
    out = StringIO()
    call_command("create_vapid_keys", "--write", stdout=out)
    written = json.loads((tmp_path / "vapid.json").read_text())
    assert f"VAPID_PUBLIC_KEY={written['public_key']}" in out.getvalue()
    monkeypatch.setenv("VAPID_PRIVATE_KEY", "x")
    with pytest.raises(CommandError, match="environment"):
        call_command("create_vapid_keys", "--write", stdout=StringIO())
