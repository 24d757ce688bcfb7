"""Email backends for the reliability tests. Only what leaves the system (SMTP) is
replaced: Django's own test backends, with a fault at the moment that matters."""

import os
import time
from pathlib import Path

from django.core.mail.backends import filebased, locmem
from django.db import connection

from .dbfaults import backend_pid, terminate_backend


class DropsDatabaseAfterSend(locmem.EmailBackend):
    """Delivers to ``mail.outbox``, then terminates this process's database connection:
    the database went away between the SMTP server accepting the mail and the
    bookkeeping. ``drops`` says how many sends do so."""

    drops = 0

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if type(self).drops > 0:
            type(self).drops -= 1
            terminate_backend(backend_pid(connection))
        return sent


class CallsBackWhileSending(locmem.EmailBackend):
    """Calls ``callback`` (set by the test) in the middle of each send."""

    callback = None

    def send_messages(self, messages):
        if type(self).callback is not None:
            type(self).callback()
        return super().send_messages(messages)


class WorkerDies(BaseException):
    """Stands for a SIGKILL: nothing in the worker catches it, nothing is recorded."""


class DiesBeforeSending(locmem.EmailBackend):
    """The worker dies during the SMTP conversation, before the mail was accepted."""

    def send_messages(self, messages):
        raise WorkerDies


class DiesAfterSending(locmem.EmailBackend):
    """The worker dies right after the SMTP server accepted the mail."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise WorkerDies


class HangingFileBackend(filebased.EmailBackend):
    """Django's file backend (EMAIL_FILE_PATH), for worker subprocesses. With
    O2D_TEST_HANG_ON_SEND=n the n-th send of the process hangs before anything is
    written, as an SMTP conversation that never ends, after writing the message's
    Message-ID to O2D_TEST_HANG_FILE (the test then kills the worker)."""

    sends = 0

    def send_messages(self, messages):
        HangingFileBackend.sends += 1
        if HangingFileBackend.sends == int(os.environ.get("O2D_TEST_HANG_ON_SEND") or 0):
            hang_file = Path(os.environ["O2D_TEST_HANG_FILE"])
            partial = hang_file.with_suffix(".partial")
            partial.write_text(messages[0].extra_headers["Message-ID"])
            partial.rename(hang_file)
            time.sleep(600)
        return super().send_messages(messages)
