"""What the services refuse, in their own terms: each channel (the API, the admin, a command)
says it in its own way (the API: projects.api.errors)."""


class ServiceError(Exception):
    """A write the services refuse; the message says why."""


class InvalidInput(ServiceError):
    """Input the services refuse: ``errors`` maps each field (``non_field_errors`` for the
    whole) to its messages, in the shape of a serializer's errors."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors

    @classmethod
    def of(cls, field: str, message: str) -> "InvalidInput":
        return cls({field: [message]})


class Conflict(ServiceError):
    """The write contradicts what is stored (a slug taken); the message says how."""

    code = "conflict"


class SlugTaken(Conflict):
    """A create names a slug that a project has (or gets meanwhile): never an overwrite."""

    def __init__(self):
        super().__init__("A project with this slug exists; change it with PUT or PATCH at its own address.")
