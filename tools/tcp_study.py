#!/usr/bin/env python3
"""TCP goodput against loss: the simulator versus the Mathis et al. model.

Runs `megzawicol run scenarios/bulk.json` with overrides: one bulk transfer that sends
for --send-for seconds (default 60 s) over a 10 Mbit/s link with 10 ms of delay each way,
frames from sender to receiver lost with probability p (the ACK direction is clean), for
each p and several seeds; reads each run's summary.json and prints, per p:

  measured goodput (mean over seeds, and the spread), the measured data loss rate (frames
  dropped on the data direction, random loss plus queue overflow, over frames offered),
  the Mathis et al. (1997) prediction  MSS/RTT * sqrt(3/2) / sqrt(p)  capped at the
  link's payload rate, the ratio measured / Mathis, and the Padhye et al. (1998) "full
  model" prediction, which adds retransmission timeouts.

RTT in both models is the base round trip of a full segment and its ACK: 2 * 10 ms + the
serialization of a 1526-byte frame (1220.8 us) and of a 72-byte ACK (57.6 us) = 21.28 ms.
The cap is the link's payload rate with full segments: each 1460 payload bytes occupy the
wire for 1526 bytes (frame and preamble) plus a 96-bit gap, 12304 bit times, so
10 Mbit/s * 11680 / 12304 = 9.49 Mbit/s. --bandwidth changes both (the delay stays 10 ms).

Usage: tools/tcp_study.py [--megzawicol PATH] [--seeds N] [--send-for SECONDS]
                          [--loss P,P,...] [--jobs N] [--sack true|false]
                          [--bandwidth MBPS] [--markdown]
"""
import argparse
import concurrent.futures
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MSS = 1460
T0 = 0.200  # the retransmission timeout: the 200 ms floor (min_rto), since SRTT + 4 RTTVAR is far below it
WMAX = 262144 // MSS  # the receive buffer, in segments
# Set by set_link(): the base RTT (2 x delay + a full frame and an ACK, both with preamble)
# and the link's payload rate with full segments (1526 bytes on the wire + a 96-bit gap
# per 1460 payload bytes). At 10 Mbit/s: 21.2784 ms and 9.4928 Mbit/s.
RTT = LINK_PAYLOAD_BPS = BANDWIDTH = 0.0


def set_link(bandwidth_bps, delay_s=0.010):
    global RTT, LINK_PAYLOAD_BPS, BANDWIDTH
    BANDWIDTH = bandwidth_bps
    RTT = 2 * delay_s + (1526 * 8 + 72 * 8) / bandwidth_bps
    LINK_PAYLOAD_BPS = bandwidth_bps * (MSS * 8) / (1526 * 8 + 96)


def mathis(p):
    return MSS * 8 / RTT * math.sqrt(1.5) / math.sqrt(p)


def padhye(p, b=1):
    """Padhye, Firoiu, Towsley, Kurose (SIGCOMM 1998), eq. (32), in bit/s of payload."""
    denom = RTT * math.sqrt(2 * b * p / 3) + T0 * min(1, 3 * math.sqrt(3 * b * p / 8)) * p * (1 + 32 * p * p)
    return MSS * 8 * min(WMAX / RTT, 1 / denom)


def run_one(exe, p, seed, send_for, sack, outroot):
    out = os.path.join(outroot, f"p{p}-s{seed}")
    app = {"kind": "bulk", "name": "transfer", "node": "a", "target": "b", "duration": f"{send_for}s",
           "transport": {"sack": sack}}
    cmd = [exe, "run", os.path.join(ROOT, "scenarios", "bulk.json"), "-q", "-o", out, "--seed", str(seed),
           "--set", f"duration={send_for + 60}s",
           "--set", "links[0].loss=0",
           "--set", f"links[0].bandwidth={int(BANDWIDTH)}",
           "--set", "links[0].a_to_b=" + json.dumps({"loss": p}),
           "--set", "apps[0]=" + json.dumps(app),
           "--set", "trace=" + json.dumps({"log": False, "jsonl": False, "pcap": False, "summary": True})]
    subprocess.run(cmd, check=True)
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    tx = next(a for a in s["apps"] if a["kind"] == "bulk")
    rx = next(a for a in s["apps"] if a["kind"] == "bulk_receiver")
    ab = s["links"][0]["a_to_b"]
    if not rx["content_ok"] or tx["result"] == "failed":
        raise RuntimeError(f"p={p} seed={seed}: transfer failed: {tx['error']} content_ok={rx['content_ok']}")
    return {
        "goodput": rx["goodput_bps"],
        "loss_rate": (ab["dropped"]["loss"] + ab["dropped"]["queue"]) / ab["offered"],
        "queue_drops": ab["dropped"]["queue"],
        "timeouts": tx["timeouts"],
        "retransmits": tx["retransmitted_segments"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--megzawicol", default=os.environ.get("MZ_BIN", os.path.join(ROOT, "build", "sim", "megzawicol")))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--send-for", type=int, default=60, help="seconds of sending per run (default 60)")
    ap.add_argument("--loss", default="0.001,0.002,0.005,0.01,0.02,0.05")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sack", default="true", choices=["true", "false"])
    ap.add_argument("--bandwidth", type=float, default=10, help="link rate in Mbit/s (default 10)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args()
    if not os.access(args.megzawicol, os.X_OK):
        sys.exit(f"{args.megzawicol}: not an executable (build it, or pass --megzawicol PATH)")
    losses = [float(x) for x in args.loss.split(",")]
    set_link(args.bandwidth * 1e6)
    sack = args.sack == "true"
    with tempfile.TemporaryDirectory(prefix="tcp-study-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futs = {(p, s): pool.submit(run_one, args.megzawicol, p, s, args.send_for, sack, tmp)
                    for p in losses for s in range(1, args.seeds + 1)}
            res = {k: f.result() for k, f in futs.items()}

    print(f"# {args.bandwidth:g} Mbit/s, 10 ms each way; {args.seeds} seeds x {args.send_for} s of sending per p; "
          f"SACK {'on' if sack else 'off'}; "
          f"MSS {MSS} B, RTT {RTT * 1e3:.2f} ms, link payload rate {LINK_PAYLOAD_BPS / 1e6:.3f} Mbit/s, "
          f"Padhye T0 {T0 * 1e3:.0f} ms, b = 1")
    cols = ["p", "measured Mbit/s", "spread", "data loss rate", "timeouts/run", "Mathis Mbit/s", "measured/Mathis",
            "Padhye Mbit/s", "measured/Padhye"]
    rows = []
    for p in losses:
        runs = [res[(p, s)] for s in range(1, args.seeds + 1)]
        g = [r["goodput"] for r in runs]
        mean = statistics.mean(g)
        m_raw = mathis(p)
        m = min(m_raw, LINK_PAYLOAD_BPS)
        pd = min(padhye(p), LINK_PAYLOAD_BPS)
        rows.append([
            f"{p:g}",
            f"{mean / 1e6:.3f}",
            f"{min(g) / 1e6:.2f}-{max(g) / 1e6:.2f}",
            f"{statistics.mean(r['loss_rate'] for r in runs):.4f}",
            f"{statistics.mean(r['timeouts'] for r in runs):.1f}",
            f"{m / 1e6:.3f}" + (" (cap)" if m_raw > LINK_PAYLOAD_BPS else ""),
            f"{mean / m:.2f}",
            f"{pd / 1e6:.3f}",
            f"{mean / pd:.2f}",
        ])
    if args.markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "|".join("---" for _ in cols) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
        print("  ".join(c.rjust(w[i]) for i, c in enumerate(cols)))
        for r in rows:
            print("  ".join(x.rjust(w[i]) for i, x in enumerate(r)))
    print("(cap): Mathis predicts more than the link carries; the prediction shown is the link's payload rate.")
    uncapped = ", ".join(f"p={p:g}: {mathis(p) / 1e6:.1f}" for p in losses if mathis(p) > LINK_PAYLOAD_BPS)
    if uncapped:
        print(f"Uncapped Mathis (Mbit/s): {uncapped}")


if __name__ == "__main__":
    main()
