"""Test kit for adapter authors: recording transports, hub builders, hypothesis strategies.

Installed as a pytest plugin (entry point ``pytest11``), so its fixtures are available in
any project that installs payhub-core. Strategies live in
:mod:`payhub_core.testing.strategies` and the conformance suite every adapter runs against
itself in :mod:`payhub_core.testing.conformance` (both need ``payhub-core[testing]``).
"""

from payhub_core.testing._recorder import AsyncRecordingTransport, Recorded, RecordingTransport

__all__ = ["AsyncRecordingTransport", "Recorded", "RecordingTransport"]
