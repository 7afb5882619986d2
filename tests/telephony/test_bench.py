"""`loket bench calls` plumbing: the gateway child process and its log."""

import sys

import pytest

from telephony.bench import ServerProcess
from telephony.errors import TelephonyError

# Writes ~400 KB of log, far more than a pipe holds (64 KB), then exits.
CHATTY = "import sys\nfor i in range(4000):\n    print(f'{i:05} ' + 'x' * 94, file=sys.stderr)\n"
BROKEN = "import sys\nprint('starting', file=sys.stderr)\n" \
         "print('error: address already in use', file=sys.stderr)\nsys.exit(3)\n"


def test_a_chatty_gateway_never_blocks_on_its_log(tmp_path):
    # The bench once piped the gateway's stderr and never read it: after ~64 KB of log
    # the gateway blocked on a write and froze mid-benchmark.
    server = ServerProcess("http://127.0.0.1:9", "t" * 32, tmp_path,
                           [sys.executable, "-c", CHATTY])
    try:
        assert server.proc.wait(timeout=120) == 0
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert log.count("\n") == 4000 and log.splitlines()[-1].startswith("03999 ")


def test_a_gateway_that_does_not_start_shows_its_last_log_line(tmp_path):
    server = ServerProcess("http://127.0.0.1:9", "t" * 32, tmp_path,
                           [sys.executable, "-c", BROKEN])
    try:
        with pytest.raises(TelephonyError, match="did not start: error: address already in use"):
            server.wait_ready()
    finally:
        server.stop()
