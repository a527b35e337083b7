"""Kabinet terminal app: the App class's parts (see README).

Mixins of :class:`app.KabinetApp` (keys typed in a burst, shared terminals, the terminal's size) and its
look (themes). Above the screens: they may open screens, no screen imports them.
"""
