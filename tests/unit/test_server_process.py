"""The test servers' start: a deadline for a slow start, and a server that exits says why."""

from __future__ import annotations

import pytest

from tests.support.server import ServerProcess


def test_a_server_that_exits_before_listening_fails_at_once_with_its_error() -> None:
    """Before, the start waited 30 s for a port (less than a busy machine can need to start the
    demo) and then reported only that nothing listened, whatever had happened."""
    server = ServerProcess({}, command="no-such-command")
    with pytest.raises(RuntimeError, match="no-such-command"):
        server.start()
    server.stop()
