"""A faithful local stand-in for the Together AI Files and Batch APIs, for tests and demos."""

from tests.standin.config import ManualClock, StandInConfig, default_models
from tests.standin.faults import BatchFault, BatchFaultKind, HttpFault
from tests.standin.server import LoggedRequest, StandIn

__all__ = [
    "BatchFault",
    "BatchFaultKind",
    "HttpFault",
    "LoggedRequest",
    "ManualClock",
    "StandIn",
    "StandInConfig",
    "default_models",
]
