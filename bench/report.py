"""The figures of ``make bench`` as plain-text tables, and the targets as PASS/FAIL lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024


@dataclass
class Pass:
    """One measured pass of one client at one size: the initial bind or the re-sync."""

    client: str  # "ours" | "naive"
    kind: str  # "initial" | "resync"
    n: int
    wall: float
    connectwise: int
    addigy: int
    max_per_minute: int
    statuses: dict[str, int]
    #: ConnectWise requests by "METHOD /template"
    endpoints: dict[str, int]
    detail: dict[str, Any]
    correctness: dict[str, int] | None = None
    #: measured on this many devices and scaled to ``n`` (the naive client at the production budget)
    sample: int | None = None

    @property
    def scale(self) -> float:
        return self.n / self.sample if self.sample else 1.0

    @property
    def est_wall(self) -> float:
        return self.wall * self.scale

    @property
    def est_connectwise(self) -> int:
        return round(self.connectwise * self.scale)

    @property
    def rate(self) -> float:
        return self.connectwise / self.wall if self.wall else 0.0

    @property
    def writes(self) -> str:
        if self.client == "ours":
            counts = self.detail["actions"]
            done = {"created": counts["create"], "updated": counts["update"] + counts["deactivate"]}
        else:
            done = {"created": self.detail["created"], "updated": self.detail["updated"]}
        failed = self.statuses_failed
        text = ", ".join(f"{n:,} {name}" for name, n in done.items() if n) or "none"
        return text + (f"; {failed:,} answers ≥ 400" if failed else "")

    @property
    def statuses_failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.isdigit() and int(status) >= 400)


@dataclass
class Target:
    n: int
    name: str
    ok: bool | None  # None: not measured (skipped)
    text: str


@dataclass
class Results:
    sizes: list[int]
    budget: float
    production_budget: float
    latency_ms: float
    companies: int
    passes: list[Pass] = field(default_factory=list)

    def get(self, client: str, kind: str, n: int) -> Pass | None:
        return next(
            (p for p in self.passes if (p.client, p.kind, p.n) == (client, kind, n)),
            None,
        )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str) -> str:
    """A plain table; ``align`` has one letter per column, ``l`` or ``r``."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(w) if a == "l" else cell.rjust(w) for cell, w, a in zip(row, widths, align)
        ).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def _ratio(naive: float, ours: float) -> str:
    return f"{naive / ours:,.1f}×" if ours else "∞"


def _kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB" if n < MIB else f"{n / MIB:,.1f} MiB"


def _mib(n: int | None) -> str:
    return "-" if n is None else f"{n / MIB:,.0f} MiB"


LABELS = {
    ("ours", "initial"): "ours   initial bind",
    ("naive", "initial"): "naive  initial bind",
    ("ours", "resync"): "ours   no-op re-sync",
    ("naive", "resync"): "naive  re-sync (skips equal)",
}


def size_section(results: Results, n: int) -> str:
    budget = results.budget
    rows = []
    for client, kind in (("ours", "initial"), ("naive", "initial"), ("ours", "resync"), ("naive", "resync")):
        p = results.get(client, kind, n)
        if p is None:
            rows.append([LABELS[client, kind], "skipped", "", "", "", "", ""])
            continue
        est = "~" if p.sample else ""
        rows.append(
            [
                LABELS[client, kind] + (" *" if p.sample else ""),
                f"{est}{p.est_connectwise:,}",
                f"{est}{p.est_wall:,.1f}",
                f"{p.rate:,.0f}",
                f"{p.max_per_minute:,}",
                f"{est}{round(p.addigy * p.scale):,}",
                p.writes,
            ]
        )
    out = [
        f"N = {n:,} devices in {results.companies} policies linked to {results.companies} companies",
        table(
            [
                "",
                "ConnectWise req",
                "wall s",
                "req/s",
                f"max in 60 s (budget {budget:,.0f})",
                "Addigy req",
                "writes",
            ],
            rows,
            "lrrrrrl",
        ),
    ]
    oi, ni = results.get("ours", "initial", n), results.get("naive", "initial", n)
    orr, nr = results.get("ours", "resync", n), results.get("naive", "resync", n)
    if ni and ni.sample:
        out.append(
            f"* naive: measured on {ni.sample:,} devices (same per-device requests, same budget) and scaled "
            f"to N = {n:,} from its measured rate ({ni.rate:,.1f} requests/s); a full run would take "
            f"~{ni.est_wall / 60:,.0f} min"
        )
    if oi and ni:
        line = (
            f"naive / ours: initial bind {_ratio(ni.est_wall, oi.wall)} the time, "
            f"{_ratio(ni.est_connectwise, oi.connectwise)} the requests"
        )
        if orr and nr:
            line += (
                f"; re-sync {_ratio(nr.est_wall, orr.wall)} the time, "
                f"{_ratio(nr.est_connectwise, orr.connectwise)} the requests"
            )
        out.append(line)
    if oi:
        xcom = oi.detail.get("largest_xcom") or {}
        if xcom:
            task, row = max(xcom.items(), key=lambda item: item[1]["bytes"])
            out.append(
                f"largest XCom row pushed: {_kib(row['bytes'])} ({task}, key {row['key']}); per task: "
                + ", ".join(f"{t} {_kib(r['bytes'])}" for t, r in xcom.items())
            )
    if oi and orr:
        out.append(
            "memory of our flow, its own process (peak RSS above the RSS at the start of the run; peak RSS): "
            f"initial +{_mib(oi.detail['rss_growth'])} (peak {_mib(oi.detail['rss_peak'])}), "
            f"re-sync +{_mib(orr.detail['rss_growth'])} (peak {_mib(orr.detail['rss_peak'])})"
            + (
                f"; tracemalloc peak {_mib(oi.detail['heap_peak'])} / {_mib(orr.detail['heap_peak'])}"
                if oi.detail.get("heap_peak")
                else ""
            )
        )
    for p in (oi, ni):
        if p and p.correctness is not None:
            c = p.correctness
            out.append(
                f"after the {p.client} initial bind: {c['devices']:,} devices, {c['configurations']:,} "
                f"configurations; {c['missing']} missing, {c['duplicated']} with duplicates, "
                f"{c['wrong']} in another company or not ours"
            )
    for p in (oi, orr):
        if p:
            mix = sorted(p.endpoints.items(), key=lambda item: (-item[1], item[0]))
            out.append(f"ours {p.kind} by endpoint: " + "; ".join(f"{name} {count:,}" for name, count in mix))
    if oi and orr:
        out.append("")
        out.append(tasks_table(oi, orr))
    return "\n".join(out)


def tasks_table(initial: Pass, resync: Pass) -> str:
    """Our flow task by task (ConnectWise requests, Addigy requests, seconds; RSS high-water after it)."""
    rows = []
    for first, second in zip(initial.detail["phases"], resync.detail["phases"]):
        rows.append(
            [
                first["task"],
                f"{first['connectwise']:,}",
                f"{first['addigy']:,}",
                f"{first['seconds']:.1f}",
                _mib(first["rss"]),
                f"{second['connectwise']:,}",
                f"{second['addigy']:,}",
                f"{second['seconds']:.1f}",
                _mib(second["rss"]),
            ]
        )
    return table(
        ["ours, task by task", "CW", "Addigy", "s", "RSS", "re-sync CW", "Addigy", "s", "RSS"],
        rows,
        "lrrrrrrrr",
    )


#: Targets of issue 12 at the production budget. An initial bind of N devices: at most 7 % of N
#: ConnectWise requests (700 at 10,000) up to N = 10,000; at most 60 s up to N = 10,000 and
#: 10 min up to 100,000; the largest XCom row far below a few MB; peak RSS below 500 MB.
MAX_XCOM_BYTES = 1 * MIB
MAX_RSS_BYTES = 500 * 1000 * 1000
MIN_SPEEDUP = 10.0


def _wall_limit(n: int) -> float | None:
    if n <= 10_000:
        return 60.0
    if n <= 100_000:
        return 600.0
    return None


def targets(results: Results) -> list[Target]:
    found: list[Target] = []
    for n in results.sizes:
        extra = math.ceil(n / 1000)
        oi, orr = results.get("ours", "initial", n), results.get("ours", "resync", n)
        ni = results.get("naive", "initial", n)
        if oi:
            limit = _wall_limit(n)
            if limit is not None:
                found.append(
                    Target(
                        n, "initial bind wall time", oi.wall <= limit, f"{oi.wall:,.1f} s ≤ {limit:,.0f} s"
                    )
                )
            if n <= 10_000:
                most = math.floor(0.07 * n)
                found.append(
                    Target(
                        n,
                        "initial bind requests",
                        oi.connectwise <= most,
                        f"{oi.connectwise:,} ≤ {most:,} (7 % of N)",
                    )
                )
        if orr:
            limit = extra + 20
            found.append(
                Target(
                    n,
                    "no-op re-sync requests",
                    orr.connectwise <= limit,
                    f"{orr.connectwise:,} ≤ {limit:,} (⌈N/1000⌉ + 20)",
                )
            )
        ours = [p for p in (oi, orr) if p]
        if ours:
            worst = max(p.max_per_minute for p in ours)
            found.append(
                Target(
                    n,
                    "rate budget",
                    worst <= results.budget,
                    f"max {worst:,} ConnectWise requests in any 60 s ≤ {results.budget:,.0f} (sandbox counter)",
                )
            )
            peak = max(p.detail["rss_peak"] for p in ours)
            found.append(
                Target(n, "peak RSS of our flow", peak < MAX_RSS_BYTES, f"{peak / 1e6:,.0f} MB < 500 MB")
            )
            biggest = max(
                (row["bytes"], task)
                for p in ours
                for task, row in (p.detail.get("largest_xcom") or {"-": {"bytes": 0}}).items()
            )
            found.append(
                Target(
                    n,
                    "largest XCom row",
                    biggest[0] <= MAX_XCOM_BYTES,
                    f"{_kib(biggest[0])} ({biggest[1]}) ≤ {_kib(MAX_XCOM_BYTES)}",
                )
            )
        if oi and ni:
            speedup = ni.est_wall / oi.wall
            found.append(
                Target(
                    n,
                    "initial bind speed",
                    speedup >= MIN_SPEEDUP,
                    f"{speedup:,.1f}× faster than naive{' (estimated)' if ni.sample else ''} (≥ {MIN_SPEEDUP:g}×)",
                )
            )
        else:
            found.append(Target(n, "initial bind speed", None, "naive client not run"))
        if oi and oi.correctness is not None:
            c = oi.correctness
            bad = c["missing"] + c["duplicated"] + c["wrong"]
            found.append(
                Target(
                    n,
                    "one configuration per device",
                    bad == 0 and c["configurations"] == c["devices"],
                    f"{c['configurations']:,} configurations for {c['devices']:,} devices, {bad} wrong",
                )
            )
    return found


def targets_section(found: Sequence[Target]) -> str:
    marks = {True: "PASS", False: "FAIL", None: "SKIP"}
    return "\n".join(f"{marks[t.ok]}  N={t.n:<7,} {t.name}: {t.text}" for t in found)
