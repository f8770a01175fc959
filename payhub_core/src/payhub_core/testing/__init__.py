"""Test kit for adapter authors: recording transports, hub builders, hypothesis strategies.

Installed as a pytest plugin (entry point ``pytest11``), so its fixtures are available in
any project that installs payhub-core. Strategies live in
:mod:`payhub_core.testing.strategies` (they need hypothesis).
"""

from payhub_core.testing._recorder import AsyncRecordingTransport, Recorded, RecordingTransport

__all__ = ["AsyncRecordingTransport", "Recorded", "RecordingTransport"]
