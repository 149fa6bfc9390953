// Crypto++ bindings for the TLS 1.3 primitives (see crypto.hpp).
#include "megzawicol/l6/crypto.hpp"

#include <crypto++/aes.h>
#include <crypto++/gcm.h>
#include <crypto++/hmac.h>
#include <crypto++/misc.h>
#include <crypto++/osrng.h>
#include <crypto++/sha.h>
#include <crypto++/xed25519.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace mz::l6 {

// ---------------------------------------------------------------------------------------
// Randomness

struct SystemRandom::Impl {
  CryptoPP::AutoSeededRandomPool pool;
};

SystemRandom::SystemRandom() : impl_(std::make_unique<Impl>()) {}
SystemRandom::~SystemRandom() = default;
void SystemRandom::fill(uint8_t* out, size_t n) { impl_->pool.GenerateBlock(out, n); }

// ---------------------------------------------------------------------------------------
// Hashing and key derivation

Digest sha256(ByteView data) {
  Digest d{};
  CryptoPP::SHA256 h;
  h.CalculateDigest(d.data(), data.data(), data.size());
  return d;
}

Digest hmac_sha256(ByteView key, ByteView data) {
  Digest d{};
  CryptoPP::HMAC<CryptoPP::SHA256> h(key.data(), key.size());
  h.Update(data.data(), data.size());
  h.Final(d.data());
  return d;
}

Secret hkdf_extract(ByteView salt, ByteView ikm) {
  // RFC 5869 2.2: an absent salt is HashLen zero bytes.
  static constexpr std::array<uint8_t, kHashLen> kZero{};
  return hmac_sha256(salt.empty() ? ByteView(kZero) : salt, ikm);
}

Bytes hkdf_expand(ByteView prk, ByteView info, size_t length) {
  assert(length <= 255 * kHashLen);
  Bytes out;
  out.reserve(length + kHashLen);
  Digest t{};
  size_t t_len = 0;
  CryptoPP::HMAC<CryptoPP::SHA256> h(prk.data(), prk.size());
  for (uint8_t counter = 1; out.size() < length; ++counter) {
    h.Update(t.data(), t_len);
    h.Update(info.data(), info.size());
    h.Update(&counter, 1);
    h.Final(t.data());  // Final also restarts the HMAC with the same key
    t_len = t.size();
    out.insert(out.end(), t.begin(), t.end());
  }
  out.resize(length);
  return out;
}

Bytes hkdf_label(std::string_view label, ByteView context, uint16_t length) {
  static constexpr std::string_view kPrefix = "tls13 ";
  assert(kPrefix.size() + label.size() <= 255 && context.size() <= 255);
  Bytes info;
  info.reserve(2 + 1 + kPrefix.size() + label.size() + 1 + context.size());
  info.push_back(static_cast<uint8_t>(length >> 8));
  info.push_back(static_cast<uint8_t>(length));
  info.push_back(static_cast<uint8_t>(kPrefix.size() + label.size()));
  info.insert(info.end(), kPrefix.begin(), kPrefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(static_cast<uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());
  return info;
}

Bytes hkdf_expand_label(ByteView secret, std::string_view label, ByteView context, uint16_t length) {
  return hkdf_expand(secret, hkdf_label(label, context, length), length);
}

Secret derive_secret(ByteView secret, std::string_view label, const Digest& transcript_hash) {
  Bytes b = hkdf_expand_label(secret, label, transcript_hash, kHashLen);
  Secret s{};
  std::memcpy(s.data(), b.data(), s.size());
  return s;
}

struct TranscriptHash::Impl {
  CryptoPP::SHA256 h;
};

TranscriptHash::TranscriptHash() : impl_(std::make_unique<Impl>()) {}
TranscriptHash::~TranscriptHash() = default;
TranscriptHash::TranscriptHash(const TranscriptHash& other)
    : impl_(std::make_unique<Impl>(*other.impl_)) {}
TranscriptHash& TranscriptHash::operator=(const TranscriptHash& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
TranscriptHash::TranscriptHash(TranscriptHash&&) noexcept = default;
TranscriptHash& TranscriptHash::operator=(TranscriptHash&&) noexcept = default;

void TranscriptHash::update(ByteView message) { impl_->h.Update(message.data(), message.size()); }

Digest TranscriptHash::current() const {
  CryptoPP::SHA256 copy = impl_->h;
  Digest d{};
  copy.Final(d.data());
  return d;
}

bool equal_constant_time(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CryptoPP::VerifyBufsEqual(a.data(), b.data(), a.size());
}

// ---------------------------------------------------------------------------------------
// X25519

X25519KeyPair x25519_generate(RandomSource& rng) {
  X25519KeyPair kp;
  rng.fill(kp.private_key.data(), kp.private_key.size());
  // RFC 7748 5: clamp.
  kp.private_key[0] &= 248;
  kp.private_key[31] &= 127;
  kp.private_key[31] |= 64;
  kp.public_key = x25519_public(kp.private_key);
  return kp;
}

X25519Key x25519_public(const X25519Key& private_key) {
  X25519Key pub{};
  CryptoPP::x25519 dom;
  dom.GeneratePublicKey(CryptoPP::NullRNG(), private_key.data(), pub.data());
  return pub;
}

Result<X25519Key> x25519_agree(const X25519Key& private_key, ByteView peer_public) {
  if (peer_public.size() != 32) return make_error("x25519 public key is not 32 bytes");
  X25519Key shared{};
  CryptoPP::x25519 dom;
  if (!dom.Agree(shared.data(), private_key.data(), peer_public.data(), true)) {
    return make_error("x25519 peer public key has small order");
  }
  // Belt and braces (RFC 7748 6.1): an all-zero output means a small-order point.
  uint8_t acc = 0;
  for (uint8_t b : shared) acc |= b;
  if (acc == 0) return make_error("x25519 shared secret is all zeros");
  return shared;
}

// ---------------------------------------------------------------------------------------
// Ed25519

Ed25519Key ed25519_public(const Ed25519Key& private_seed) {
  CryptoPP::ed25519Signer signer(private_seed.data());
  const auto& key = static_cast<const CryptoPP::ed25519PrivateKey&>(signer.GetPrivateKey());
  Ed25519Key pub{};
  std::memcpy(pub.data(), key.GetPublicKeyBytePtr(), pub.size());
  return pub;
}

Ed25519Signature ed25519_sign(const Ed25519Key& private_seed, ByteView message) {
  CryptoPP::ed25519Signer signer(private_seed.data());
  Ed25519Signature sig{};
  // Ed25519 is deterministic: the RNG argument is not used.
  signer.SignMessage(CryptoPP::NullRNG(), message.data(), message.size(), sig.data());
  return sig;
}

bool ed25519_verify(const Ed25519Key& public_key, ByteView message, ByteView signature) {
  if (signature.size() != 64) return false;
  CryptoPP::ed25519Verifier verifier(public_key.data());
  return verifier.VerifyMessage(message.data(), message.size(), signature.data(), signature.size());
}

// ---------------------------------------------------------------------------------------
// AES-128-GCM

struct Aes128Gcm::Impl {
  CryptoPP::GCM<CryptoPP::AES>::Encryption enc;
  CryptoPP::GCM<CryptoPP::AES>::Decryption dec;
};

Aes128Gcm::Aes128Gcm(const std::array<uint8_t, kKeyLen>& key) : impl_(std::make_unique<Impl>()) {
  // GCM refuses a key without an IV; the per-record nonce replaces this one on every call.
  static constexpr std::array<uint8_t, kNonceLen> kInitialIv{};
  impl_->enc.SetKeyWithIV(key.data(), key.size(), kInitialIv.data(), kInitialIv.size());
  impl_->dec.SetKeyWithIV(key.data(), key.size(), kInitialIv.data(), kInitialIv.size());
}
Aes128Gcm::~Aes128Gcm() = default;
Aes128Gcm::Aes128Gcm(Aes128Gcm&&) noexcept = default;
Aes128Gcm& Aes128Gcm::operator=(Aes128Gcm&&) noexcept = default;

void Aes128Gcm::seal(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad, ByteView plaintext,
                     uint8_t* out) {
  impl_->enc.EncryptAndAuthenticate(out, out + plaintext.size(), kTagLen, nonce.data(), nonce.size(),
                                    aad.data(), aad.size(), plaintext.data(), plaintext.size());
}

void Aes128Gcm::seal(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad, ByteView head, ByteView tail,
                     uint8_t* out) {
  // EncryptAndAuthenticate's steps, with the message processed in two pieces (GCM is a
  // stream: the pieces need not be whole blocks).
  auto& e = impl_->enc;
  e.Resynchronize(nonce.data(), static_cast<int>(nonce.size()));
  e.SpecifyDataLengths(aad.size(), head.size() + tail.size());
  e.Update(aad.data(), aad.size());
  if (!head.empty()) e.ProcessData(out, head.data(), head.size());
  if (!tail.empty()) e.ProcessData(out + head.size(), tail.data(), tail.size());
  e.TruncatedFinal(out + head.size() + tail.size(), kTagLen);
}

bool Aes128Gcm::open(const std::array<uint8_t, kNonceLen>& nonce, ByteView aad,
                     ByteView ciphertext_and_tag, uint8_t* out) {
  if (ciphertext_and_tag.size() < kTagLen) return false;
  const size_t n = ciphertext_and_tag.size() - kTagLen;
  const bool ok = impl_->dec.DecryptAndVerify(out, ciphertext_and_tag.data() + n, kTagLen,
                                              nonce.data(), nonce.size(), aad.data(), aad.size(),
                                              ciphertext_and_tag.data(), n);
  if (!ok && n > 0) std::memset(out, 0, n);
  return ok;
}

}  // namespace mz::l6
