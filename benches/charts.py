#!/usr/bin/env python3
"""Charts for docs/performance.md, drawn from the benchmarks' own output (no dependencies).

    python3 benches/charts.py report target/bench-report   # figures.json + SVGs of this run,
                                                           # in target/bench-report/charts/
    python3 benches/charts.py update target/bench-report   # the same into docs/bench/ and
                                                           # docs/charts/ (commit them)
    python3 benches/charts.py check                        # docs/charts/*.svg are exactly what
                                                           # docs/bench/figures.json draws (CI)

The inputs are what .ci/bench.sh writes: instructions.json (gungraun), loadgen.json (the
Runtime API load generator) and target/criterion/*/*/new/estimates.json. Every figure is the
median of the rounds of one run; the pictures are drawn from docs/bench/figures.json, which
is extracted from a run, so a picture cannot say something its numbers do not.
"""
import json, pathlib, statistics, sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS_FIGURES = ROOT / "docs" / "bench" / "figures.json"
DOCS_CHARTS = ROOT / "docs" / "charts"


def extract(report: pathlib.Path) -> dict:
    """The figures the charts show, from one bench run's output directory."""
    fig = {"instructions": {}, "criterion_ns": {}, "invocations": {}, "cold_start_ms": {}}
    ins = report / "instructions.json"
    if ins.exists():
        for line in ins.read_text().splitlines():
            if line.startswith("{"):
                d = json.loads(line)
                fig["instructions"][d["function_name"]] = d["profiles"][0]["data"]["total"]["metrics"]["Ir"]["values"]["new"]
    crit = ROOT / "target" / "criterion"
    for est in sorted(crit.glob("*/*/new/estimates.json")):
        group, name = est.parts[-4], est.parts[-3]
        fig["criterion_ns"][f"{group}/{name}"] = json.loads(est.read_text())["median"]["point_estimate"]
    lg = report / "loadgen.json"
    if lg.exists():
        rows = {}
        for e in json.loads(lg.read_text()):
            if "label" in e:
                r = rows.setdefault(e["label"], {"concurrency": e["concurrency"], "inv_s": [], "cpu_us": [], "rss_kib": []})
                r["inv_s"].append(e["invocations_per_s"])
                r["cpu_us"].append(e["cpu_us_per_invocation"])
                r["rss_kib"].append(e["peak_rss_kib"])
            elif "cold" in e:
                fig["cold_start_ms"][e["cold"]] = statistics.median(e["init_ms"])
        for label, r in rows.items():
            fig["invocations"][label] = {
                "concurrency": r["concurrency"],
                "inv_s": round(statistics.median(r["inv_s"]), 1),
                "cpu_us": round(statistics.median(r["cpu_us"]), 2),
                "rss_kib": statistics.median(r["rss_kib"]),
            }
    return fig


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bars(title: str, unit: str, items: list, note: str = "") -> str:
    """A horizontal bar chart: items are (label, value, highlighted)."""
    width, left, row = 760, 300, 26
    top = 48
    height = top + row * len(items) + (40 if note else 20)
    vmax = max((v for _, v, _ in items), default=1) or 1
    scale = (width - left - 110) / vmax
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="12" y="24" font-size="15" font-weight="bold">{esc(title)}</text>',
    ]
    for i, (label, value, mine) in enumerate(items):
        y = top + i * row
        w = max(1.0, value * scale)
        color = "#2b66c4" if mine else "#9aa5b1"
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{esc(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{color}"/>')
        shown = f"{value:,.0f}" if value >= 1000 else f"{value:,.2f}"
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{shown} {esc(unit)}</text>')
    if note:
        out.append(f'<text x="12" y="{height - 12}" font-size="11" fill="#555">{esc(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(fig: dict) -> dict:
    charts = {}
    inv = fig.get("invocations", {})
    single = [(k, v) for k, v in inv.items() if "@" not in k]
    if single:
        items = [(k, v["cpu_us"], k.startswith("jwt-authorizer")) for k, v in sorted(single, key=lambda kv: kv[1]["cpu_us"])]
        charts["invocation-cpu"] = bars(
            "CPU per invocation, one at a time (lower is better)", "µs", items,
            "function process CPU (all threads) per invocation, Runtime API load generator; median of the run's rounds")
    multi = [(k, v) for k, v in inv.items() if "@" in k]
    if multi:
        items = [(k, v["inv_s"], k.startswith("jwt-authorizer")) for k, v in sorted(multi, key=lambda kv: kv[0])]
        charts["managed-instances-throughput"] = bars(
            "Managed Instances: invocations per second, N in flight (higher is better)", "/s", items,
            "mixed load (repeated, new and invalid tokens); 'generator alone' is the load generator's own capacity")
    ins = fig.get("instructions", {})
    if ins:
        order = ["ring_verify", "decide", "handle", "jsonwebtoken_decode", "handle_cached", "decide_cached"]
        names = {"ring_verify": "ring's RSA verify (the floor)", "decide": "our hot path: token → decision",
                 "handle": "our event → response", "jsonwebtoken_decode": "jsonwebtoken crate: decode + validate",
                 "handle_cached": "event → response, cached", "decide_cached": "token → decision, cached"}
        items = [(names.get(k, k), ins[k], k not in ("ring_verify", "jsonwebtoken_decode")) for k in order if k in ins]
        charts["hot-path-instructions"] = bars(
            "Hot path in instructions (deterministic; lower is better)", "instr.", items,
            "Callgrind instruction counts (gungraun), one RS256 2048-bit Clerk-shaped token")
    cold = fig.get("cold_start_ms", {})
    if cold:
        items = [(k, v, k.startswith("jwt-authorizer")) for k, v in sorted(cold.items(), key=lambda kv: kv[1])]
        charts["cold-start"] = bars(
            "Cold start: exec → first GET /next (lower is better)", "ms", items, "x86_64, median of the run's cold starts")
    return charts


def write(fig: dict, figures: pathlib.Path, charts_dir: pathlib.Path) -> None:
    figures.parent.mkdir(parents=True, exist_ok=True)
    figures.write_text(json.dumps(fig, indent=1, sort_keys=True) + "\n")
    charts_dir.mkdir(parents=True, exist_ok=True)
    for name, svg in render(fig).items():
        (charts_dir / f"{name}.svg").write_text(svg)
        print(f"wrote {charts_dir / name}.svg")


def main(argv: list) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "report":
        report = pathlib.Path(argv[2])
        write(extract(report), report / "charts" / "figures.json", report / "charts")
    elif cmd == "update":
        write(extract(pathlib.Path(argv[2])), DOCS_FIGURES, DOCS_CHARTS)
    elif cmd == "check":
        fig = json.loads(DOCS_FIGURES.read_text())
        want = render(fig)
        have = {p.stem: p.read_text() for p in DOCS_CHARTS.glob("*.svg")}
        bad = sorted(set(want) ^ set(have)) + sorted(k for k in want if k in have and want[k] != have[k])
        if bad:
            print("charts: FAIL: docs/charts differs from what docs/bench/figures.json draws: " + ", ".join(bad))
            print("        (python3 benches/charts.py update target/bench-report after a bench run)")
            return 1
        print(f"charts: ok ({len(want)} charts drawn from docs/bench/figures.json)")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
