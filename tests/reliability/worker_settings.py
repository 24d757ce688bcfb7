"""Settings of the Celery worker subprocesses started by the reliability tests: the
project's own, with each email written to a file in O2D_TEST_EMAIL_DIR and the tasks a
worker queues (re-queued emails, retries) routed to the test's own queue."""

import os

from o2d.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.reliability.email_backends.HangingFileBackend"
EMAIL_FILE_PATH = os.environ["O2D_TEST_EMAIL_DIR"]
CELERY_TASK_DEFAULT_QUEUE = os.environ["O2D_TEST_QUEUE"]
