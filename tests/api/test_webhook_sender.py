"""The webhook sender's SSRF guard where the connection is made (DNS rebinding), and its pin."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.http.webhooks import HttpxWebhookSender, SenderLimits, open_client
from entrypoints.webhooks import TracedWebhookSender
from tests.webhook_receiver import receiving


class Answers:
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int) -> list[str]:
        return self.addresses


async def test_the_guard_refuses_a_private_address_at_connect_time() -> None:
    # The name resolved to a public address when it was saved; now it answers 127.0.0.1.
    limits = SenderLimits(total_timeout_s=2)
    async with receiving("200") as receiver:
        client = open_client(limits, Answers(["127.0.0.1"]), allow_private=False)
        async with client:
            sender = HttpxWebhookSender(client, limits)
            url = f"http://rebound.example:{receiver.port}/hook"
            result = await sender.post(url, {}, b"{}")
    assert result.status_code is None
    assert result.error is not None
    assert "loopback" in result.error
    assert receiver.requests == []


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host() -> None:
    limits = SenderLimits(total_timeout_s=2)
    async with receiving("200") as receiver:
        client = open_client(limits, Answers(["127.0.0.1"]), allow_private=True)
        async with client:
            sender = HttpxWebhookSender(client, limits)
            url = f"http://pinned.example:{receiver.port}/hook"
            result = await sender.post(url, {"webhook-id": "msg_x"}, b"{}")
    assert result.status_code == 200
    [request] = receiver.requests
    assert request.headers["host"] == f"pinned.example:{receiver.port}"


async def test_with_tracing_each_post_is_a_client_span_and_sends_its_traceparent() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    limits = SenderLimits(total_timeout_s=2)
    async with receiving("200") as receiver:
        client = open_client(limits, Answers(["127.0.0.1"]), allow_private=True)
        async with client:
            sender = TracedWebhookSender(HttpxWebhookSender(client, limits), provider)
            await sender.post(receiver.url, {}, b"{}")
    [span] = exporter.get_finished_spans()
    assert span.kind is SpanKind.CLIENT
    traceparent = receiver.requests[0].headers["traceparent"]
    assert span.context is not None
    assert traceparent.split("-")[1] == f"{span.context.trace_id:032x}"


async def test_a_host_name_reuses_its_connection_and_never_another_names() -> None:
    limits = SenderLimits(total_timeout_s=2)
    async with receiving("200") as receiver:
        client = open_client(limits, Answers(["127.0.0.1"]), allow_private=True)
        async with client:
            sender = HttpxWebhookSender(client, limits)
            for host in ("one.example", "one.example", "two.example", "one.example"):
                result = await sender.post(f"http://{host}:{receiver.port}/hook", {}, b"{}")
                assert result.status_code == 200
    assert [r.headers["host"].split(":")[0] for r in receiver.requests] == [
        "one.example",
        "one.example",
        "two.example",
        "one.example",
    ]
    assert receiver.connections == 2  # one kept alive per name, both to the same address
