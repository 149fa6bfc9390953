#!/usr/bin/env python3
"""Regenerates the seed corpora in tests/fuzz/corpus/ from real frames of our scenarios.

    tests/fuzz/make_corpus.py [--build build] [--sim PATH]

Runs a few scenarios with the simulator of a regular build (pcaps on), cuts frames and
payloads out of the pcaps (Ethernet, ARP, IPv4, ICMP, UDP, TCP, session frames, host
frames), copies the small scenario files, and lets BUILD/tests/fuzz/mz_fuzz_seedgen write the
inputs built with the library (4B/5B line bits, a real TLS handshake, HTTP messages, session
frames, fragment sequences). Deterministic: same code, same corpus. Each corpus stays a few KB.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), path
    pos, frames = 24, []
    while pos + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[pos:pos + 16])
        frames.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return frames


def run(sim, scenario, out, *sets):
    args = [sim, "run", os.path.join(ROOT, "scenarios", scenario), "--out", out, "-q"]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True)
    return {f[:-5]: read_pcap(os.path.join(out, f)) for f in sorted(os.listdir(out)) if f.endswith(".pcap")}


class Writer:
    def __init__(self):
        self.seen = {}

    def put(self, target, name, data, limit=8):
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        n = self.seen.setdefault(target, set())
        if len(n) >= limit or name in n:
            return
        n.add(name)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def classify(frame):
    """A short name for the kind of frame (one seed per kind)."""
    et = frame[12:14]
    if et == b"\x08\x06":
        return "arp_%d" % frame[21]
    if et != b"\x08\x00":
        return "other"
    ip = frame[14:]
    off = struct.unpack(">H", ip[6:8])[0]
    proto = ip[9]
    if off & 0x1FFF:
        return "ip_%d_frag" % proto  # a later fragment: no L4 header
    frag = "_frag" if off & 0x2000 else ""
    l4 = ip[(ip[0] & 15) * 4:]
    if proto == 1:
        return "icmp_%d%s" % (l4[0], frag)
    if proto == 17:
        return "udp%s" % frag
    if proto == 6:
        flags = l4[13]
        hl = (l4[12] >> 4) * 4
        total = struct.unpack(">H", ip[2:4])[0] - (ip[0] & 15) * 4
        return "tcp_%02x%s%s" % (flags, "_data" if total > hl else "", frag)
    return "ip_%d" % proto


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sim", help="the simulator binary (default: BUILD/sim/megzawicol)")
    a = ap.parse_args()
    sim = a.sim or os.path.join(a.build, "sim", "megzawicol")
    seedgen = os.path.join(a.build, "tests", "fuzz", "mz_fuzz_seedgen")
    for p in (sim, seedgen):
        if not os.path.exists(p):
            sys.exit("missing %s: build first (cmake --build %s)" % (p, a.build))
    shutil.rmtree(CORPUS, ignore_errors=True)
    w = Writer()
    tmp = tempfile.mkdtemp()
    try:
        caps = {}
        caps["ping"] = run(sim, "ping.json", os.path.join(tmp, "ping"))
        caps["chain"] = run(sim, "chain-mtu.json", os.path.join(tmp, "chain"))
        caps["bulk"] = run(sim, "bulk.json", os.path.join(tmp, "bulk"), "apps[0].bytes=20000", "duration=2s")
        caps["story"] = run(sim, "seed-story.json", os.path.join(tmp, "story"))

        frames = []  # (scenario, pcap, frame) in capture order, richest scenarios first
        for scen in ("story", "bulk", "chain", "ping"):
            pcaps = caps[scen]
            for name, fr in pcaps.items():
                frames += [(scen, name, f) for f in fr]

        line_frames = []
        for scen, pcap, f in frames:
            kind = classify(f)
            tag = kind  # one seed per kind of frame, from the first scenario that has it
            w.put("ethernet", tag, f, limit=14)
            body = f[14:-4]
            if kind.startswith("arp"):
                w.put("arp", tag, body, limit=4)
                continue
            if f[12:14] != b"\x08\x00":
                continue
            w.put("ipv4", tag, body, limit=14)
            ihl = (body[0] & 15) * 4
            total = struct.unpack(">H", body[2:4])[0]
            l4 = body[ihl:total]
            addrs = body[12:20]
            if "frag" in kind:
                continue
            if body[9] == 1:
                w.put("icmp", tag, l4, limit=6)
            elif body[9] == 17:
                w.put("udp", tag, addrs + l4, limit=4)
            elif body[9] == 6:
                if len(l4) < 600:
                    w.put("tcp_segment", tag, addrs + l4, limit=8)
                hl = (l4[12] >> 4) * 4
                payload = l4[hl:]
                if scen == "story" and payload[:2] == b"MZ" and len(payload) < 700:
                    w.put("session_frame", "story_%d_%s" % (len(payload), kind), b"\x00" + payload, limit=4)
            if len(f) < 200 and len(line_frames) < 3 and kind not in [classify(x) for x in line_frames]:
                line_frames.append(f)

        # host_stack: what host b of ping.json and bulk.json received, as records
        # [flags: 10 ms step, raw frame][length u16][frame].
        b_mac = bytes([2, 0, 0, 1, 0, 0])
        for scen, limit in (("ping", 12), ("bulk", 6)):
            recs = b""
            n = 0
            for f in caps[scen]["b-eth0"]:
                if f[0:6] in (b_mac, b"\xff" * 6) and n < limit and len(f) < 1600:
                    if len(f) > 600:
                        f = f[:600]  # a cut data segment: its checksum fails; keeps the seed small
                    recs += bytes([1 << 2]) + struct.pack(">H", len(f)) + f
                    n += 1
            w.put("host_stack", scen + "_b_rx", recs)
        # The same ping frames without FCS and checksums fixed up by the harness (flag bit 0).
        recs = b""
        for f in caps["ping"]["b-eth0"][:8]:
            g = f[:-4]
            recs += bytes([1 | (1 << 2)]) + struct.pack(">H", len(g)) + g
        w.put("host_stack", "ping_b_fixup", recs)

        # scenario_json: the small scenario files as they are, and one with overrides.
        for s in ("ping.json", "chain-mtu.json", "bulk.json", "stop-and-wait.json", "traceroute.json", "wireless.json"):
            with open(os.path.join(ROOT, "scenarios", s), "rb") as f:
                text = f.read()
            w.put("scenario_json", s, text)
            if s == "ping.json":
                w.put("scenario_json", "ping_set", b"set:links[0].loss=0.5\nset:apps[0].count=2\n" + text)

        frame_files = []
        for i, f in enumerate(line_frames):
            p = os.path.join(tmp, "frame%d" % i)
            with open(p, "wb") as fh:
                fh.write(f)
            frame_files.append(p)
        subprocess.run([seedgen, CORPUS] + frame_files, check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for t in sorted(os.listdir(CORPUS)):
        d = os.path.join(CORPUS, t)
        files = os.listdir(d)
        print("%-24s %3d files %7d bytes" % (t, len(files), sum(os.path.getsize(os.path.join(d, x)) for x in files)))


if __name__ == "__main__":
    main()
