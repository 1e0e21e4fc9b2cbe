from __future__ import annotations

from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from ai_providers.base import TASK_TYPES, Completion
from workflows_app.nodes.base import Node, NodeConfig, NodeContext, TemplateText, node_type, saved_only
from workflows_app.nodes.ports import NodePorts

# The task types the router knows (ai_providers.base.TASK_TYPES), checked at save time.
TaskType = Literal[TASK_TYPES]  # type: ignore[valid-type]


def _known_provider(entry: str, info: ValidationInfo) -> str:
    # Checked at save as the router checks at run time (ai_providers.router.parse_link),
    # from the settings alone: no SDK is loaded in the web process for it. Not for a stored
    # version saved before this check: there the router's check fails the node.
    if not saved_only(info):
        return entry
    configured = settings.AI_PROVIDERS["PROVIDERS"]
    provider, _, model = entry.partition("/")
    if provider not in configured:
        raise ValueError(f"unknown provider {provider!r}; providers are: {', '.join(sorted(configured))}")
    if not model and not configured[provider].get("default_model"):
        raise ValueError(f'{provider} has no default model: write "{provider}/<model>"')
    return entry


# "provider/model"; the model part may itself contain slashes (openrouter/qwen/qwen-2.5-72b-instruct).
# A provider alone means its default model.
ProviderModel = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(/\S+)?$", max_length=200), AfterValidator(_known_provider)
]


class AiProcessorConfig(NodeConfig):
    task_type: TaskType
    prompt: TemplateText
    system: TemplateText | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    response_format: Literal["text", "json"] = "text"
    providers: list[ProviderModel] | None = Field(None, min_length=1, max_length=10)


@node_type("AI_PROCESSOR")
class AiProcessor(Node[AiProcessorConfig]):
    """Asks the provider that the router picks for the task type (docs/concepts/ai-providers.md)."""

    queue = "ai"
    announces_start = True  # with the first admission (ai_providers.guards.admit)
    # When every provider is failing or cooling, the node is retried later (a new message
    # with a countdown, not a worker held in a sleep) until its attempts run out.
    default_max_attempts = 3
    # CompletionResult.as_output(): `json` for response_format "json", `label` and `score`
    # for sentiment (score is null when a chat model answered).
    output_schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "json": {"description": "The parsed answer, for response_format json."},
            "provider": {"type": "string"},
            "model": {"type": "string"},
            "usage": {
                "type": "object",
                "properties": {"input_tokens": {"type": "integer"}, "output_tokens": {"type": "integer"}},
                "required": ["input_tokens", "output_tokens"],
            },
            "cost_usd": {"type": "number"},
            "latency_ms": {"type": "integer"},
            "fallback_used": {"type": "boolean"},
            "emulated": {"type": "boolean"},
            "label": {"type": "string"},
            "score": {"type": ["number", "null"]},
            "cached": {"type": "boolean", "description": "Answered by the response cache: usage and cost are 0."},
        },
        "required": ["text", "provider", "model", "usage", "cost_usd", "latency_ms", "fallback_used", "emulated"],
    }

    @classmethod
    def prepare_worker(cls, ports: NodePorts) -> None:
        # Every adapter with its vendor SDK: about 1 s and 45 MB on first import, which
        # the first AI node after a (re)start would otherwise wait out, all 16 threads of
        # an `ai` worker behind the same import lock.
        ports.ai.prepare()

    def run(self, ctx: NodeContext) -> Any:
        config = self.config
        request = Completion(
            prompt=ctx.render_text(config.prompt),
            system=ctx.render_text(config.system) if config.system is not None else None,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            response_format=config.response_format,
        )
        result = ctx.ports.ai.complete(
            task_type=config.task_type,
            request=request,
            chain_override=list(config.providers) if config.providers else None,
            user_id=ctx.owner_id,
            attempt_log=ctx.attempt_calls,
            # The `ai` queue runs a thread pool, where Celery's time limits do not apply: the
            # node's own deadline is what stops a slow chain before its lease runs out.
            deadline=ctx.deadline,
            announce=ctx.announce_start,
            # The breaker and usage bookkeeping waits until the answer is recorded and the
            # next nodes are on their way.
            deferred=ctx.after_record,
        )
        return result.as_output()
