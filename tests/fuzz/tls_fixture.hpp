// The fixed TLS identities and seeds of the tls_connection fuzz target and of the seed-corpus
// generator: the corpus flights are only valid for exactly these values.
#pragma once

#include <array>
#include <cstdint>

#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/l6/tls_connection.hpp"

namespace mz::fuzz {

inline constexpr uint64_t kClientSeed = 11;
inline constexpr uint64_t kServerSeed = 22;

inline std::array<uint8_t, 32> server_seed() {
  std::array<uint8_t, 32> s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(0xa0 + i);
  return s;
}

inline l6::TlsConfig client_config() {
  l6::TlsConfig c;
  c.is_server = false;
  c.pinned_server_public = l6::ed25519_public(server_seed());
  c.server_name = "server.example";
  return c;
}

inline l6::TlsConfig server_config() {
  l6::TlsConfig c;
  c.is_server = true;
  c.server_ed25519_private = server_seed();
  return c;
}

}  // namespace mz::fuzz
