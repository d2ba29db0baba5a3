from django.apps import AppConfig


class MailProbeConfig(AppConfig):
    """Registers the note handler for the kind "note" in processes the tests start
    (``manage.py receive_email``, ``manage.py lmtp_server``)."""

    name = "tests.mail.probe"
    label = "mail_probe"

    def ready(self) -> None:
        from mail.inbound import register_handler

        from .handlers import NoteHandler

        register_handler("note", NoteHandler())
