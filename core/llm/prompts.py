"""The prompt templates, readable here and overridable with ``[llm].user_prompt_file`` and
``[llm].judge_prompt_file`` (``string.Template`` syntax: ``$persona``, ``${goal}``; ``$$`` is a dollar).

Each template is the *system* message. The conversation follows it as chat messages: for the simulated
user the agent's lines are ``user`` messages and its own earlier lines ``assistant`` messages; for the
judge the transcript is one ``user`` message (see transcript.py). The answer's JSON shape is not part of
the template: it is asked through structured output (wire.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

USER_PROMPT = """\
You are role-playing a person in a conversation with an automated agent, to test that agent.
Stay in character. Never say that you are an AI, a simulation or a test.

Persona: $persona
Goal: $goal

Context: $description

Write the person's next line only: one or two short sentences, as they would say them.
Set status to "goal_done" once the agent has clearly done what the goal asks, or to "cannot_do" once
it is clear the agent cannot or will not do it; otherwise "continue". Give the reason for the status.
You have at most $max_turns lines in all.
"""

JUDGE_PROMPT = """\
You are a strict, fair evaluator of a conversation between a caller and an automated agent.
Decide whether the criterion below was met, using only what the transcript shows.

Criterion: $criterion

About the test: $description
$timing_note
Give a short reason that quotes or points at the lines that decide it, then the verdict:
"pass" if the criterion was met, "fail" if it was not.
"""

TIMING_NOTE = "Each line starts with its time in seconds from the start; gaps between lines are latencies.\n"
USER_FIELDS = frozenset({"persona", "goal", "description", "max_turns"})
JUDGE_FIELDS = frozenset({"criterion", "description", "timing_note"})


class PromptError(ValueError):
    """A prompt template file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Prompts:
    """The two templates in force."""

    user: Template
    judge: Template


def load_prompts(user_file: Path | None = None, judge_file: Path | None = None) -> Prompts:
    """The built-in templates, or the given files' (checked: readable, known placeholders only)."""
    return Prompts(
        user=_load(user_file, USER_PROMPT, USER_FIELDS, required=("persona", "goal")),
        judge=_load(judge_file, JUDGE_PROMPT, JUDGE_FIELDS, required=("criterion",)),
    )


def _load(path: Path | None, default: str, fields: frozenset[str], required: tuple[str, ...]) -> Template:
    if path is None:
        return Template(default)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"prompt file {path} cannot be read: {exc}") from None
    template = Template(text)
    if not template.is_valid():
        raise PromptError(f"prompt file {path}: a '$' that starts no placeholder (write $$ for a dollar)")
    used = set(template.get_identifiers())
    unknown = used - fields
    if unknown:
        raise PromptError(
            f"prompt file {path}: unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(fields))}"
        )
    missing = [name for name in required if name not in used]
    if missing:
        raise PromptError(f"prompt file {path}: the template must use ${', $'.join(missing)}")
    return template
