"""PostgreSQL connection pools (Django's, on psycopg_pool) across ``fork()``.

A pool is per process: its connections are sockets, and its maintenance runs in threads that a
forked child does not get. A child that took a connection from a pool it inherited would share
that socket with its parent and its siblings. So every pool of the process is closed just before
a fork (``rescore --jobs N`` forks its workers; gunicorn forks its workers from a master that
has opened none); parent and children each open their own on their next query.
"""

import os


def close_pools() -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    pools = DatabaseWrapper._connection_pools
    for alias in list(pools):
        pools.pop(alias).close()


os.register_at_fork(before=close_pools)
