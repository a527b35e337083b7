"""The FAQ inside the app, in the interface's language, split into topics a screen can open at."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

_HEADING = re.compile(r"^## (?P<title>.+?) \{#(?P<topic>[a-z_]+)\}\s*$")


@dataclass(frozen=True)
class HelpTopic:
    """One section of the FAQ."""

    topic: str
    title: str
    body: str


@cache
def help_topics(lang: str) -> tuple[str, tuple[HelpTopic, ...]]:
    """The help document's introduction and its topics, in ``lang`` (``ru`` or ``en``)."""
    text = resources.files("tui").joinpath("locale", f"help.{lang}.md").read_text("utf-8")
    intro: list[str] = []
    topics: list[HelpTopic] = []
    current: tuple[str, str] | None = None
    lines: list[str] = []
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            if current is not None:
                topics.append(HelpTopic(current[0], current[1], "\n".join(lines).strip()))
            current = (match["topic"], match["title"])
            lines = []
        elif current is None:
            intro.append(line)
        else:
            lines.append(line)
    if current is not None:
        topics.append(HelpTopic(current[0], current[1], "\n".join(lines).strip()))
    return "\n".join(intro).strip(), tuple(topics)


def help_markdown(lang: str, first: str | None = None) -> str:
    """The whole help as Markdown, with ``first`` (the current screen's topic) at the top."""
    intro, topics = help_topics(lang)
    ordered = sorted(topics, key=lambda topic: topic.topic != first)
    sections = [f"## {topic.title}\n\n{topic.body}" for topic in ordered]
    return "\n\n".join([intro, *sections])
