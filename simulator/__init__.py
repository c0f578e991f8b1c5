"""The demo partner: a standalone HTTP server that plays every bank, payment
institution, operator and platform on a demo or test run.

Run it with ``python -m simulator`` (see ``__main__``), or in-process
with :func:`serve_in_thread`. :func:`sign` and :func:`verify` are the reference
implementation of the push signature of partner protocol v1. The simulator is
a separate process, like a real partner: it needs no settings or database, and
reads only the platform's task-type declarations (``cases.task_types``) to know
how each type is answered.
"""

from .partner import MODES, Simulator
from .results import build_result
from .server import SimulatorHandle, serve_in_thread
from .signing import DEFAULT_TOLERANCE, SignatureError, check_signature, sign, verify

__all__ = [
    "DEFAULT_TOLERANCE",
    "MODES",
    "SignatureError",
    "Simulator",
    "SimulatorHandle",
    "build_result",
    "check_signature",
    "serve_in_thread",
    "sign",
    "verify",
]
