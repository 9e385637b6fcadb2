"""Reads the host budget from omemd's status socket (docs/status.md): one
JSON document per connection, version 1, bounded like virt-omem's client."""

import json
import socket

STATUS_TIMEOUT_SECONDS = 2
STATUS_MAX_BYTES = 4 * 1024 * 1024


class OmemdUnreachable(Exception):
    """omemd did not answer or answered something unreadable."""


def read_budget_bytes(path):
    """host.budget_bytes from the status document at PATH."""
    chunks, size = [], 0
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(STATUS_TIMEOUT_SECONDS)
            sock.connect(path)
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > STATUS_MAX_BYTES:
                    raise OmemdUnreachable('%s: status above %d bytes'
                                           % (path, STATUS_MAX_BYTES))
                chunks.append(chunk)
    except OSError as error:
        raise OmemdUnreachable('%s: %s' % (path, error))
    try:
        document = json.loads(b''.join(chunks).decode('utf-8'))
    except ValueError as error:
        raise OmemdUnreachable('%s: not JSON: %s' % (path, error))
    if not isinstance(document, dict) or document.get('version') != 1:
        raise OmemdUnreachable('%s: not status version 1' % path)
    budget = (document.get('host') or {}).get('budget_bytes')
    if not isinstance(budget, int) or isinstance(budget, bool) or budget <= 0:
        raise OmemdUnreachable('%s: no host.budget_bytes' % path)
    return budget
