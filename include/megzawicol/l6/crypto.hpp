// L6 cryptographic primitives for TLS 1.3 with TLS_AES_128_GCM_SHA256, x25519 and ed25519.
//
// Thin wrappers over Crypto++ that speak in fixed-size arrays and byte views; the Crypto++
// headers stay inside src/l6/. Nothing here reads a clock or the OS entropy pool except
// `SystemRandom`, which only the real-socket mode may use: simulated hosts get a
// `SeededRandom` so that the same scenario seed gives byte-identical handshakes.
//
// Key derivation follows RFC 8446 7.1 (HKDF-Extract, HKDF-Expand-Label, Derive-Secret),
// written on HMAC<SHA256> because Crypto++'s HKDF cannot run the expand step alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/core/rng.hpp"

namespace mz::l6 {

inline constexpr size_t kHashLen = 32;  // SHA-256
using Secret = std::array<uint8_t, kHashLen>;
using Digest = std::array<uint8_t, kHashLen>;
using X25519Key = std::array<uint8_t, 32>;
using Ed25519Key = std::array<uint8_t, 32>;  // a private seed or a public key
using Ed25519Signature = std::array<uint8_t, 64>;

// ---------------------------------------------------------------------------------------
// Randomness

/// Where a TLS endpoint draws its randoms and ephemeral keys from.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(uint8_t* out, size_t n) = 0;
};

/// Deterministic stream from an `mz::Rng` (xoshiro256**): for the simulator, where runs must
/// be reproducible. Not cryptographically strong: never use it over real sockets.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : rng_(seed) {}
  explicit SeededRandom(Rng rng) : rng_(rng) {}
  void fill(uint8_t* out, size_t n) override { rng_.fill(out, n); }

 private:
  Rng rng_;
};

/// The operating system's entropy (Crypto++ AutoSeededRandomPool). Only the real-socket mode
/// (src/io/, sim/) may construct one; a simulated host must use `SeededRandom`.
class SystemRandom final : public RandomSource {
 public:
  SystemRandom();
  ~SystemRandom() override;
  SystemRandom(const SystemRandom&) = delete;
  SystemRandom& operator=(const SystemRandom&) = delete;
  void fill(uint8_t* out, size_t n) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------
// Hashing and key derivation (RFC 5869, RFC 8446 7.1)

Digest sha256(ByteView data);
Digest hmac_sha256(ByteView key, ByteView data);
/// HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM).
Secret hkdf_extract(ByteView salt, ByteView ikm);
/// HKDF-Expand(PRK, info, L); `length` <= 255 * 32.
Bytes hkdf_expand(ByteView prk, ByteView info, size_t length);
/// The HkdfLabel structure: uint16 length || opaque label<7..255> ("tls13 " + label) ||
/// opaque context<0..255>.
Bytes hkdf_label(std::string_view label, ByteView context, uint16_t length);
/// HKDF-Expand-Label(Secret, Label, Context, Length).
Bytes hkdf_expand_label(ByteView secret, std::string_view label, ByteView context, uint16_t length);
/// Derive-Secret(Secret, Label, Messages) given Transcript-Hash(Messages) already computed.
Secret derive_secret(ByteView secret, std::string_view label, const Digest& transcript_hash);

/// Running SHA-256 over the concatenated handshake messages (RFC 8446 4.4.1).
class TranscriptHash {
 public:
  TranscriptHash();
  ~TranscriptHash();
  TranscriptHash(const TranscriptHash& other);
  TranscriptHash& operator=(const TranscriptHash& other);
  TranscriptHash(TranscriptHash&&) noexcept;
  TranscriptHash& operator=(TranscriptHash&&) noexcept;

  void update(ByteView message);
  /// The hash of everything so far; the running state is left untouched.
  Digest current() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Constant-time equality of two equally long buffers (false if the lengths differ).
bool equal_constant_time(ByteView a, ByteView b);

// ---------------------------------------------------------------------------------------
// X25519 (RFC 7748)

struct X25519KeyPair {
  X25519Key private_key{};  // clamped
  X25519Key public_key{};
};

X25519KeyPair x25519_generate(RandomSource& rng);
/// Public key of a raw private key (clamped internally, so RFC 8448's unclamped keys work).
X25519Key x25519_public(const X25519Key& private_key);
/// Shared secret with the peer's public key. An Error if the peer key is not 32 bytes or has
/// small order (the shared secret would be all zeros, RFC 7748 6.1).
Result<X25519Key> x25519_agree(const X25519Key& private_key, ByteView peer_public);

// ---------------------------------------------------------------------------------------
// Ed25519 (RFC 8032)

/// The public key of a 32-byte private seed.
Ed25519Key ed25519_public(const Ed25519Key& private_seed);
Ed25519Signature ed25519_sign(const Ed25519Key& private_seed, ByteView message);
bool ed25519_verify(const Ed25519Key& public_key, ByteView message, ByteView signature);

// ---------------------------------------------------------------------------------------
// AES-128-GCM (RFC 5116 AEAD_AES_128_GCM: 16-byte key, 12-byte nonce, 16-byte tag)

class Aes128Gcm {
 public:
  static constexpr size_t kKeyLen = 16;
  static constexpr size_t kNonceLen = 12;
  static constexpr size_t kTagLen = 16;

  explicit Aes128Gcm(const std::array<uint8_t, kKeyLen>& key);
  ~Aes128Gcm();
  Aes128Gcm(Aes128Gcm&&) noexcept;
  Aes128Gcm& operator=(Aes128Gcm&&) noexcept;

  /// Writes ciphertext || tag (plaintext.size() + 16 bytes) to `out`, which may alias nothing.
  void seal(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad, ByteView plaintext,
            uint8_t* out);
  /// The same for the plaintext head || tail (one message, two places in memory): writes
  /// head.size() + tail.size() + 16 bytes to `out`.
  void seal(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad, ByteView head, ByteView tail,
            uint8_t* out);
  /// Decrypts ciphertext || tag into `out` (ciphertext.size() - 16 bytes). False if the tag
  /// does not verify or the input is shorter than a tag; then `out` holds no plaintext (it is
  /// zeroed).
  bool open(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad, ByteView ciphertext_and_tag,
            uint8_t* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mz::l6
