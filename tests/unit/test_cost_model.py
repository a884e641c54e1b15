"""The cost model's pure part: inputs in, line items and docs/cost.md's text out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.bench.cost import (
    API,
    BUS_EVENTS,
    EXECUTOR,
    READ_UNITS,
    REST_REQUESTS,
    SQS_FIFO,
    SQS_STANDARD,
    SYNC_WORKER,
    WEBHOOK,
    WRITE_UNITS,
    Assumptions,
    CostInputs,
    FunctionUse,
    LineItem,
    Operation,
    Workload,
    cost_markdown,
    line_items,
    total,
)


def _operation(name: str, functions: dict[str, FunctionUse], **meters: float) -> Operation:
    return Operation(name, functions, {"DynamoDB PutItem": 1}, {"GET positions": 1}, meters)


def _inputs() -> CostInputs:
    return CostInputs(
        measured_at="then",
        workload=Workload(),
        assumptions=Assumptions(),
        memory_mb={API: 512, EXECUTOR: 512, SYNC_WORKER: 1024, WEBHOOK: 256},
        sync=_operation(
            "sync",
            {SYNC_WORKER: FunctionUse(0.1, 30, 1.5, 700)},
            **{WRITE_UNITS: 2, READ_UNITS: 3, SQS_STANDARD: 0.3},
        ),
        scheduler_tick=_operation("tick", {}),
        sweeper_tick=_operation("sweep", {}),
        order=_operation(
            "order",
            {API: FunctionUse(1, 40, 4, 400), EXECUTOR: FunctionUse(1, 300, 8, 900)},
            **{REST_REQUESTS: 1, WRITE_UNITS: 10, SQS_FIFO: 3, BUS_EVENTS: 2},
        ),
        alert=_operation(
            "alert",
            {WEBHOOK: FunctionUse(1, 40, 3, 800), EXECUTOR: FunctionUse(2, 600, 20, 2000)},
            **{REST_REQUESTS: 1, WRITE_UNITS: 20, SQS_FIFO: 6, BUS_EVENTS: 3},
        ),
        queues={"orders.fifo": "FIFO", "syncs": "standard"},
        token_readers=(EXECUTOR, SYNC_WORKER),
        secrets=1,
        alarm_metrics=15,
        custom_metrics=("TradeDeliveries (service=mt-backend)",),
        sync_max_concurrency=5,
    )


def _item(items: dict[str, list[LineItem]], part: str, service: str, what: str) -> LineItem:
    return next(item for item in items[part] if item.service == service and item.what == what)


def test_a_line_item_is_its_quantity_times_its_price() -> None:
    writes = _item(line_items(_inputs()), "syncs", "DynamoDB", "writes")

    # 1,000 accounts, a sync a minute, 730 hours, 2 write units each, $0.625 per million.
    assert writes.quantity == pytest.approx(1000 * 730 * 60 * 2)
    assert writes.usd == pytest.approx(writes.quantity * 0.625 / 1e6)


def test_doubling_an_input_doubles_its_line_item() -> None:
    inputs = _inputs()
    doubled_sync = replace(inputs.sync, meters={**inputs.sync.meters, WRITE_UNITS: 4})
    more_alerts = replace(inputs, workload=replace(inputs.workload, alerts_per_day=200_000))

    before, after = line_items(inputs), line_items(replace(inputs, sync=doubled_sync))
    assert _item(after, "syncs", "DynamoDB", "writes").usd == pytest.approx(
        2 * _item(before, "syncs", "DynamoDB", "writes").usd
    )
    assert _item(line_items(more_alerts), "alerts", "API Gateway", "REST requests").usd == pytest.approx(
        2 * _item(before, "alerts", "API Gateway", "REST requests").usd
    )


def test_deployed_time_adds_a_round_trip_per_aws_call() -> None:
    inputs = _inputs()
    slower = replace(inputs, assumptions=replace(inputs.assumptions, aws_round_trip_ms=20))

    duration = _item(line_items(inputs), "syncs", "Lambda", "duration")
    # Per sync: (30 ms + 1.5 calls x 8 ms) at 1 GB, then at 20 ms a call.
    syncs = 1000 * 730 * 60
    assert duration.quantity == pytest.approx(syncs * 0.042)
    assert _item(line_items(slower), "syncs", "Lambda", "duration").quantity == pytest.approx(syncs * 0.060)


def test_the_total_is_the_sum_of_the_line_items() -> None:
    inputs = _inputs()
    items = line_items(inputs)
    serverless = [item for part in ("syncs", "orders", "alerts", "always running") for item in items[part]]
    text = cost_markdown(inputs)

    assert f"**${total(serverless):,.2f}**" in text
    assert total(serverless) == pytest.approx(sum(item.usd for item in serverless))
    for part in ("syncs", "orders", "alerts", "always running"):
        assert f"| {part} | ${total(items[part]):,.2f} |" in text


def test_the_always_on_server_is_priced_beside_the_serverless_stack() -> None:
    inputs = _inputs()
    server = line_items(inputs)["server"]
    bigger = line_items(replace(inputs, workload=replace(inputs.workload, accounts=4000)))["server"]
    text = cost_markdown(inputs)

    instance = next(item for item in server if item.service == "EC2")
    assert instance.quantity == 730
    assert "m7g.xlarge" in instance.what  # (1 GB + 1,000 x 6 MB) x 1.3 needs more than 8 GiB
    assert "m7g.2xlarge" in next(item for item in bigger if item.service == "EC2").what
    assert all(item.side == "always-on" for item in server)
    assert (
        f"| **one always-on server streaming them** (m7g.xlarge, 16 GiB) | **${total(server):,.2f}** |"
        in text
    )
    assert "MetaApi's own charges are left out" in text
