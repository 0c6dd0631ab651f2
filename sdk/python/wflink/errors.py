"""Errors a job returns; each becomes a case of the WIT ``job-error``."""


class JobError(Exception):
    """Base of the errors a job raises on purpose; the message reaches the user."""

    #: The WIT ``job-error`` case this error becomes.
    case = "other"


class InvalidArguments(JobError):
    """The job's arguments were wrong (a missing ``--input``, say)."""

    case = "invalid-arguments"


class InvalidPlan(JobError):
    """The plan the job describes is not valid (a stream with no sink, say)."""

    case = "invalid-plan"


class UserError(JobError):
    """A user function failed on a record. Any other exception a user
    function raises becomes one too, with its traceback."""

    case = "user"
