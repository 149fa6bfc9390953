// The integrity campaign's scenario generator: one uint64 seed -> one random but valid
// scenario, as JSON text (what a file in scenarios/ would hold).
//
// Topology: 1-8 routers joined by point-to-point links (/30 each, a random tree plus a few
// extra links, random costs), 1-6 LANs (/24 each) made of a tree of 0-3 switches (no
// switch loops) with 1-4 hosts and 1-2 routers on it (a LAN without a switch is a single
// host-router cable), now and then a LAN with no router at all (its hosts are
// unreachable). Routers use "routes": "auto"; hosts use "auto" or a default route via a
// router on their LAN. Every router ends up with at least two interfaces.
//
// Links: bandwidth 56 kbit/s .. 1 Gbit/s, delay 0 .. 50 ms, loss (mostly 0, up to 0.5),
// BER (mostly 0, up to 1e-3), duplication, jitter up to 30 ms, queues of 2 .. 200 frames,
// each possibly different per direction; an MTU per router link or per LAN, from
// 68 up to 9000. Events: up to three links go down, most of them come back later.
//
// Apps between random hosts (unique ports): bulk (10-200 kB, 10-30 kB when some MTU is
// below 576, random TCP options), http (TLS + session + HTTP POST of a random message of
// 1-300 printable characters, 1-3 requests, 1-2 connections), udp flows (12-3000 byte
// datagrams, fragmented on small MTUs) and pings.
#pragma once

#include <cstdint>
#include <string>

namespace mz::campaign {

struct Limits {
  uint64_t max_bulk_bytes = 200'000;
};

/// The scenario for `seed`, as JSON text (its "seed" is `seed` too).
std::string generate_scenario(uint64_t seed, const Limits& limits = {});

}  // namespace mz::campaign
