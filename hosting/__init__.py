"""Kabinet: how the terminal app is hosted (see README).

The embedded demo portal (:mod:`hosting.embedded`), ``kabinet serve-ssh`` (:mod:`hosting.sshserver`),
``kabinet serve-web`` (:mod:`hosting.webserver`) and what they share (:mod:`hosting.sessions`: limits,
temporary homes, the demo portal, the common options), the fork server both start their sessions from
(:mod:`hosting.forkserver`: it imports the app by name, in a process of its own) and the kiosk
administrator's ``kabinet hash-pin`` (:mod:`hosting.kiosk`). The only part of the app allowed to import the
portal; it imports no Textual (pyproject's import-linter contracts).
"""
