"""The Celery application: timed work (deadline sweeps, follow-ups, surveys, emails)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2d.settings")

app = Celery("o2d")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The filesystem transport reads and writes plain folders; make sure they exist
# before a worker, beat or the web process touches them.
for _folder in (app.conf.broker_transport_options or {}).values():
    if isinstance(_folder, str):
        Path(_folder).mkdir(parents=True, exist_ok=True)
