"""The portal's infrastructure, shared by every domain and holding no rules of its own.

The database and its sessions (:mod:`~portal.kit.db`, :mod:`~portal.kit.sqlite_inline`), the repository
base (:mod:`~portal.kit.repository`), the shared dependencies and the running state
(:mod:`~portal.kit.deps`, :mod:`~portal.kit.state`), the caches of sessions and views
(:mod:`~portal.kit.cache`, :mod:`~portal.kit.views`), the clock, the files at rest, the request guards,
and the base of the API's errors (:mod:`~portal.kit.errors`). The rules live in the domain packages.
"""
