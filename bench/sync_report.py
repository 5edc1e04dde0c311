"""The Sync benchmark's summary tables and JSON form.

Layer: ``bench`` (benchmark code). Prints to stdout only; computes nothing but ratios already in
the figures and unit conversions.
"""

from __future__ import annotations

import math
from typing import Any

from bench.sync_stats import Spread, ms, ratio, table


def jsonable(value: Any) -> Any:
    """``value`` with every :class:`Spread` in milliseconds and NaN as null (strict JSON)."""
    if isinstance(value, Spread):
        return jsonable(value.as_ms())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def _x(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def _propagation_tables(runs: list[dict[str, Any]]) -> None:
    rows = []
    for run in runs:
        kfed, raw, r = run["kfed"], run["raw"], run["ratios"]
        rows.append(
            [
                str(run["clusters"]),
                ms(kfed["receipt"].p50),
                ms(kfed["receipt"].p99),
                ms(kfed["receipt"].max),
                ms(raw["receipt"].p50),
                ms(raw["receipt"].p99),
                _x(r["receipt_p50"]),
                _x(r["receipt_p99"]),
            ]
        )
    print("\nPropagation, API write (raw: trigger) -> each cluster's receipt, ms")
    headers = ["N", "kfed p50", "kfed p99", "kfed max", "raw p50", "raw p99", "x p50", "x p99"]
    print(table(headers, rows))

    rows = []
    for run in runs:
        kfed, raw, r = run["kfed"], run["raw"], run["ratios"]
        hist = kfed["hub_histogram"]
        rows.append(
            [
                str(run["clusters"]),
                ms(kfed["time_to_last"].p50),
                ms(kfed["time_to_last"].p99),
                ms(raw["time_to_last"].p50),
                ms(raw["time_to_last"].p99),
                _x(r["time_to_last_p50"]),
                _x(r["time_to_last_p99"]),
                ms(kfed["answered"].p99),
                f"~{ms(hist['p50_s'])}/~{ms(hist['p99_s'])}/{ms(hist['mean_s'])}",
            ]
        )
    print("\nTime to the last cluster per update, ms; result sent p99; hub histogram (write ->")
    print("applied result, from buckets: p50/p99 interpolated, mean exact)")
    headers = ["N", "kfed p50", "kfed p99", "raw p50", "raw p99", "x p50", "x p99"]
    print(table([*headers, "result p99", "hub p50/p99/mean"], rows))


def _cost_table(runs: list[dict[str, Any]]) -> None:
    rows = []
    for run in runs:
        kfed, raw = run["kfed"], run["raw"]
        hub_ms, raw_ms = kfed["server_cpu_ms_per_update"], raw["server_cpu_ms_per_update"]
        rows.append(
            [
                str(run["clusters"]),
                f"{hub_ms:.1f}",
                f"{raw_ms:.1f}",
                _x(ratio(hub_ms, raw_ms)),
                f"{kfed['server_idle_cpu_percent']:.1f}",
                f"{raw['server_idle_cpu_percent']:.1f}",
                ms(kfed["trigger"].p50),
            ]
        )
    print("\nServer CPU: per update beyond idle (ms), and idle with heartbeats (% of one core)")
    headers = ["N", "hub ms/upd", "raw ms/upd", "x", "hub idle%", "raw idle%", "API write p50"]
    print(table(headers, rows))


def _setup_table(runs: list[dict[str, Any]]) -> None:
    rows = []
    for run in runs:
        join, connect, memory = run["join"], run["connect"], run["memory"]
        rows.append(
            [
                str(run["clusters"]),
                f"{join['wall_s']:.1f}",
                f"{join['per_second']:.0f}",
                f"{connect['all_initially_synced_s']:.1f}",
                f"{memory['hub_rss_mib_joined']:.1f}",
                f"{memory['hub_rss_mib_idle']:.1f}",
                f"{memory['kib_per_idle_cluster']:.1f}",
                f"{memory['raw_kib_per_stream']:.1f}",
                f"{run['kfed']['ready_clusters']}/{run['clusters']}",
            ]
        )
    print("\nJoins, connections, memory (goal: <= 50 KiB of hub memory per idle cluster)")
    headers = ["N", "join s", "joins/s", "synced s", "hub MiB", "idle MiB", "KiB/cl"]
    print(table([*headers, "raw KiB/st", "Ready"], rows))


def _reconnect_table(figures: dict[str, Any]) -> None:
    initial, again = figures["initial_sync"], figures["reconnect"]
    rows = [
        ["initial sync (empty Hello)", f"{initial['seconds'] * 1000:.0f} ms"],
        ["  bytes received", f"{initial['bytes_received']:,}"],
        ["  batches", str(initial["batches"])],
        ["reconnect: Hello sent (bytes)", f"{again['hello_bytes']:,}"],
        ["  bytes received after reconnect", f"{again['bytes_received']:,}"],
        ["  connect -> Welcome", f"{again['connect_to_welcome_ms']:.0f} ms"],
        ["  connect -> in sync (probe received)", f"{again['connect_to_in_sync_ms']:.0f} ms"],
        ["  probe write -> receipt", f"{again['probe_write_to_receipt_ms']:.0f} ms"],
        ["  re-applies", str(again["reapplies"])],
    ]
    print(f"\nReconnect of an agent holding {figures['objects']:,} unchanged objects")
    print("(goal: <= 2 s, zero re-applies; bytes are protobuf message bytes)")
    print(table(["", "value"], rows))


def print_summary(figures: dict[str, Any]) -> None:
    runs = figures["propagation"]
    print("\n=== Sync benchmark summary ===")
    if runs:
        _propagation_tables(runs)
        _cost_table(runs)
        _setup_table(runs)
        loads = ", ".join(
            f"N={run['clusters']}: {run['load_average_at_start']:.1f} -> "
            f"{run['load_average_at_end']:.1f}"
            for run in runs
        )
        print(f"\n1-minute load average, start -> end of each run: {loads}")
        print("(the end includes this benchmark's own processes; other work skews the figures)")
        for run in runs:
            for side in ("kfed", "raw"):
                problems = run[side]["problems"]
                if problems:
                    print(f"N={run['clusters']} {side}: {len(problems)} stream problems, e.g.")
                    print(f"  {problems[0]}")
    if "reconnect" in figures:
        _reconnect_table(figures["reconnect"])
