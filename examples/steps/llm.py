"""A simulated LLM for the examples: token counts of generated text and a price table.
No network: the "model" output is computed by the step; only the bookkeeping is real."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.steps import StepContext

# model -> (provider, USD per million input tokens, USD per million output tokens)
PRICES: dict[str, tuple[str, float, float]] = {
    "grok-2-latest": ("xai", 2.00, 10.00),
    "gpt-4o-mini": ("openai", 0.15, 0.60),
    "claude-3-5-haiku": ("anthropic", 0.80, 4.00),
    "local-echo": ("local", 0.0, 0.0),
}
DEFAULT_MODEL = "grok-2-latest"
# the simulated providers, each with the model it uses when none is named
DEFAULT_MODELS: dict[str, str] = {"xai": "grok-2-latest", "openai": "gpt-4o-mini"}
DEFAULT_MODELS |= {"anthropic": "claude-3-5-haiku", "local": "local-echo"}


def pick_model(provider: str | None, model: str | None) -> str:
    """The model of a call: `model` (which must be one of `provider`'s when both are given),
    else the provider's default, else DEFAULT_MODEL."""
    if provider is not None and provider not in DEFAULT_MODELS:
        raise ValueError(f"unknown provider {provider!r}; known: {', '.join(DEFAULT_MODELS)}")
    chosen = model or (DEFAULT_MODELS[provider] if provider else DEFAULT_MODEL)
    if chosen not in PRICES:
        raise ValueError(f"unknown model {chosen!r}; known: {', '.join(sorted(PRICES))}")
    if provider is not None and PRICES[chosen][0] != provider:
        raise ValueError(f"model {chosen!r} is {PRICES[chosen][0]}'s, not {provider}'s")
    return chosen


_TOKEN = re.compile(r"\w+|[^\w\s]")


def token_count(text: str) -> int:
    """Tokens of a text, counted as words and punctuation marks."""
    return len(_TOKEN.findall(text))


def price(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD for a call of `model` with these token counts, rounded to micro-dollars."""
    if model not in PRICES:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(sorted(PRICES))}")
    _, per_in, per_out = PRICES[model]
    return round((tokens_in * per_in + tokens_out * per_out) / 1_000_000, 6)


@dataclass
class Usage:
    """Tokens used by the simulated calls of one step."""

    model: str
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0

    def add(self, prompt: str, completion: str) -> None:
        """Count one call: `prompt` in, `completion` out."""
        self.calls += 1
        self.tokens_in += token_count(prompt)
        self.tokens_out += token_count(completion)

    def report(self, ctx: StepContext) -> float:
        """Record the usage as the step's LLM cost; returns the amount."""
        amount = price(self.model, self.tokens_in, self.tokens_out)
        provider = PRICES[self.model][0]
        ctx.cost(
            amount,
            provider=provider,
            model=self.model,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
        )
        ctx.metric("llm_calls", self.calls, "calls")
        ctx.metric("tokens_in", self.tokens_in, "tokens")
        ctx.metric("tokens_out", self.tokens_out, "tokens")
        return amount
