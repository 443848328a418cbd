"""The model as executors see it: simulated users and judges on the ``[llm]`` settings.

A voice executor uses the same two calls as the conversation executor: ``simulated_user(...)`` then
``next_line(transcript)`` each turn, and ``judge(criterion, transcript, timing=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from callboard.core.llm.client import ChatClient
from callboard.core.llm.errors import LlmRefused
from callboard.core.llm.judge import Verdict, judge_messages, run_judge
from callboard.core.llm.options import LlmOptions
from callboard.core.llm.prompts import PromptError, Prompts, load_prompts
from callboard.core.llm.simulated_user import SimulatedUser
from callboard.core.models import TranscriptEntry


class LlmService:
    """One shared client (pool, pacing, output mode) and the prompt templates in force."""

    def __init__(self, options: LlmOptions, client: ChatClient | None = None) -> None:
        self.options = options
        self.client = client or ChatClient(options)
        self._prompts: Prompts | None = None

    def prompts(self) -> Prompts:
        """The templates, read on first use; a bad template file is an ``llm_config`` run error."""
        if self._prompts is None:
            try:
                self._prompts = load_prompts(self.options.user_prompt_file, self.options.judge_prompt_file)
            except PromptError as exc:
                raise LlmRefused("llm_config", str(exc)) from None
        return self._prompts

    def simulated_user(
        self, *, persona: str, goal: str, max_turns: int, description: str = "", model: str | None = None
    ) -> SimulatedUser:
        """A new simulated user for one run."""
        return SimulatedUser(
            self.client,
            self.prompts().user,
            persona=persona,
            goal=goal,
            max_turns=max_turns,
            description=description,
            model=model or self.options.model,
            temperature=self.options.user_temperature,
            seed=self.options.seed,
        )

    async def judge(
        self,
        criterion: str,
        transcript: Sequence[TranscriptEntry],
        *,
        description: str = "",
        timing: bool = False,
        model: str | None = None,
        samples: int | None = None,
    ) -> Verdict:
        """The verdict on ``criterion`` for ``transcript`` (``timing``: show each line's seconds)."""
        messages = judge_messages(self.prompts().judge, criterion, transcript, description, timing=timing)
        return await run_judge(
            self.client,
            messages,
            model=model or self.options.model,
            samples=samples or self.options.judge_samples,
            seed=self.options.seed,
        )

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()
