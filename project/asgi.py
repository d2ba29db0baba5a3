"""ASGI entry: HTTP through Django, ``/ws/queue/`` through Channels (API.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from notifications.auth import QueueAuthStack  # noqa: E402
from notifications.consumers import QueueConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The consumer checks Origin itself so that it can answer with close code 4403.
        "websocket": QueueAuthStack(URLRouter([path("ws/queue/", QueueConsumer.as_asgi())])),
    }
)
