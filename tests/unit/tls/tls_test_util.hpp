// Shared helpers for the L6 (TLS) tests: test-vector loading and an in-memory client/server pair.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/l6/tls_connection.hpp"

namespace mz::l6::test {

inline nlohmann::json load_json(const std::string& name) {
  std::ifstream f(std::string(MZ_SOURCE_DIR) + "/tests/data/tls/" + name);
  REQUIRE_MESSAGE(f.good(), "cannot open tests/data/tls/" << name);
  return nlohmann::json::parse(f);
}

inline Bytes hex(const std::string& s) {
  Bytes b;
  REQUIRE(from_hex(s, b));
  return b;
}

template <size_t N>
std::array<uint8_t, N> arr(const Bytes& b) {
  REQUIRE(b.size() == N);
  std::array<uint8_t, N> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

/// RFC 8448 section 3 values by name ("client_hello", "early_secret", ...).
inline const nlohmann::json& rfc8448() {
  static const nlohmann::json j = load_json("rfc8448.json");
  return j.at("vectors");
}
inline Bytes rfc(const std::string& name) { return hex(rfc8448().at(name).get<std::string>()); }

/// A fixed Ed25519 server identity for the connection tests.
inline std::array<uint8_t, 32> server_seed() {
  std::array<uint8_t, 32> s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(0xa0 + i);
  return s;
}

inline TlsConfig client_config(const std::array<uint8_t, 32>& pinned, std::string sni = "server.example") {
  TlsConfig c;
  c.is_server = false;
  c.pinned_server_public = pinned;
  c.server_name = std::move(sni);
  return c;
}

inline TlsConfig server_config(const std::array<uint8_t, 32>& seed = server_seed()) {
  TlsConfig c;
  c.is_server = true;
  c.server_ed25519_private = seed;
  return c;
}

/// Drains all events of a connection.
inline std::vector<TlsEvent> drain_events(TlsConnection& c) {
  std::vector<TlsEvent> v;
  while (auto e = c.poll_event()) v.push_back(std::move(*e));
  return v;
}

/// The first alert event of a list, if any (sent == want_sent).
inline std::optional<Alert> find_alert(const std::vector<TlsEvent>& ev, bool want_sent) {
  for (const auto& e : ev) {
    if (const auto* a = std::get_if<Alert>(&e); a && a->sent == want_sent) return *a;
  }
  return std::nullopt;
}

/// Client and server over an in-memory wire. `pump` moves bytes both ways until quiet,
/// delivering them in chunks produced by `chunker(total) -> next chunk size`.
struct Pair {
  SeededRandom client_rng{11};
  SeededRandom server_rng{22};
  TlsConnection client;
  TlsConnection server;
  std::vector<TlsEvent> client_events, server_events;

  explicit Pair(TlsConfig cc = client_config(ed25519_public(server_seed())), TlsConfig sc = server_config())
      : client(std::move(cc), client_rng), server(std::move(sc), server_rng) {}

  template <class Chunker>
  static void deliver(TlsConnection& to, const Bytes& bytes, Chunker&& chunker) {
    size_t at = 0;
    while (at < bytes.size()) {
      size_t n = std::min(bytes.size() - at, std::max<size_t>(1, chunker(bytes.size() - at)));
      to.handle_transport(ByteView(bytes).subspan(at, n));
      at += n;
    }
  }

  template <class Chunker>
  void pump(Chunker&& chunker) {
    for (int round = 0; round < 100; ++round) {
      Bytes c2s = client.take_transport();
      Bytes s2c = server.take_transport();
      if (c2s.empty() && s2c.empty()) break;
      deliver(server, c2s, chunker);
      deliver(client, s2c, chunker);
    }
    for (auto& e : drain_events(client)) client_events.push_back(std::move(e));
    for (auto& e : drain_events(server)) server_events.push_back(std::move(e));
  }
  void pump() {
    pump([](size_t n) { return n; });
  }
};

}  // namespace mz::l6::test
