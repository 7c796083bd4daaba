"""Preload of the course's scheduler and workers (etc/dask/distributed.yaml): no HTTP port at all.

Dask starts an HTTP server on every scheduler and worker (the scheduler's on port 8787 of every
address by default), whatever its settings say: ``--no-dashboard`` and empty routes only leave it
serving nothing. Its pages have no authentication, and any account of the machine can reach the
port, so it is closed as soon as the server has started.
"""


def dask_setup(server):
    """Stop ``server``'s HTTP server: its port no longer accepts connections."""
    server.http_server.stop()
