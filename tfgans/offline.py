"""Fail fast, in one line, when a download is needed and the network is not there.

Code that downloads data or weights (TFDS datasets, Keras' ImageNet weights) asks
`require_network` first: without a network the user gets one line that says what was
needed and how to provide it offline, at once, instead of minutes of retries and a raw
connection error (and half-written download files).

Example:
```python
require_network("storage.googleapis.com", "the InceptionV3 ImageNet weights",
                "copy the weights file into ~/.keras/models, or use another extractor")
```
"""

import socket

#: Seconds to wait for a connection before calling the network absent.
TIMEOUT = 5.0


class OfflineError(OSError):
    """A download is needed and the host cannot be reached."""


def can_reach(host, port=443, timeout=TIMEOUT):
    """True when a TCP connection to `host:port` opens within `timeout` seconds."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def require_network(host, what, fix, port=443):
    """Raises `OfflineError` when `host` cannot be reached.

    Args:
        host: the download host.
        what: what would be downloaded ("the InceptionV3 ImageNet weights").
        fix: how to do without the download.
    """
    if not can_reach(host, port):
        raise OfflineError(
            f"Cannot download {what}: {host} cannot be reached (no network?). {fix}"
        )
