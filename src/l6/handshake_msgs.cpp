// TLS 1.3 handshake message codecs (RFC 8446 4, RFC 7250).
#include "megzawicol/l6/handshake_msgs.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "wire_io.hpp"

namespace mz::l6 {

using wire_io::Reader;
using wire_io::Writer;

namespace {

// ----------------------------------------------------------------------------------------
// Helpers

Bytes frame(HandshakeType type, const Bytes& body) {
  Bytes out;
  out.reserve(kHandshakeHeaderLen + body.size());
  Writer w(out);
  w.u8(static_cast<uint8_t>(type));
  w.u24(static_cast<uint32_t>(body.size()));
  w.bytes(body);
  return out;
}

void put_extension(Writer& w, uint16_t type, const Bytes& data) {
  w.u16(type);
  w.u16(static_cast<uint16_t>(data.size()));
  w.bytes(data);
}

/// A list of uint16 inside a vector with a `len_bytes` length prefix.
Bytes u16_list(const std::vector<uint16_t>& v, int len_bytes) {
  Bytes b;
  Writer w(b);
  const size_t at = w.begin_vec(len_bytes);
  for (uint16_t x : v) w.u16(x);
  w.end_vec(at, len_bytes);
  return b;
}

/// Parses a vector of uint16 (`len_bytes` prefix, 2..max bytes, even) filling the whole body.
bool read_u16_list(ByteView body, int len_bytes, size_t max, std::vector<uint16_t>& out) {
  Reader r(body);
  ByteView list;
  if (!r.vec(len_bytes, 2, max, list) || !r.at_end() || list.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < list.size(); i += 2) out.push_back(load_be16(list.data() + i));
  return true;
}

/// Walks an extension block, calling `on(type, data)` for each; rejects duplicates.
template <class F>
bool for_each_extension(ByteView block, std::vector<uint16_t>& seen, F&& on) {
  Reader r(block);
  while (!r.at_end()) {
    uint16_t type;
    ByteView data;
    if (!r.u16(type) || !r.vec(2, 0, 0xffff, data)) return false;
    if (std::find(seen.begin(), seen.end(), type) != seen.end()) return false;  // RFC 8446 4.2
    seen.push_back(type);
    if (!on(type, data)) return false;
  }
  return r.ok();
}

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

std::string group_name(uint16_t g) {
  switch (g) {
    case 0x001d: return "x25519";
    case 0x0017: return "secp256r1";
    case 0x0018: return "secp384r1";
    case 0x0019: return "secp521r1";
    case 0x001e: return "x448";
    default: return "group(" + hex16(g) + ")";
  }
}

std::string suite_name(uint16_t s) {
  switch (s) {
    case 0x1301: return "TLS_AES_128_GCM_SHA256";
    case 0x1302: return "TLS_AES_256_GCM_SHA384";
    case 0x1303: return "TLS_CHACHA20_POLY1305_SHA256";
    default: return "suite(" + hex16(s) + ")";
  }
}

std::string sig_name(uint16_t s) {
  switch (s) {
    case 0x0807: return "ed25519";
    case 0x0808: return "ed448";
    case 0x0403: return "ecdsa_secp256r1_sha256";
    case 0x0804: return "rsa_pss_rsae_sha256";
    case 0x0401: return "rsa_pkcs1_sha256";
    default: return "sig(" + hex16(s) + ")";
  }
}

template <class T, class F>
std::string join(const std::vector<T>& v, F&& name) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += name(v[i]);
  }
  return s + "]";
}

std::string cert_type_name(uint8_t t) {
  switch (t) {
    case kCertTypeX509: return "X509";
    case kCertTypeRawPublicKey: return "RawPublicKey";
    default: return "type(" + std::to_string(t) + ")";
  }
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Framing and small helpers

std::string handshake_type_name(HandshakeType t) {
  switch (t) {
    case HandshakeType::client_hello: return "ClientHello";
    case HandshakeType::server_hello: return "ServerHello";
    case HandshakeType::new_session_ticket: return "NewSessionTicket";
    case HandshakeType::end_of_early_data: return "EndOfEarlyData";
    case HandshakeType::encrypted_extensions: return "EncryptedExtensions";
    case HandshakeType::certificate: return "Certificate";
    case HandshakeType::certificate_request: return "CertificateRequest";
    case HandshakeType::certificate_verify: return "CertificateVerify";
    case HandshakeType::finished: return "Finished";
    case HandshakeType::key_update: return "KeyUpdate";
    case HandshakeType::message_hash: return "MessageHash";
  }
  return "Handshake(" + std::to_string(static_cast<unsigned>(t)) + ")";
}

std::optional<HandshakeHeader> peek_handshake_header(ByteView buf) {
  if (buf.size() < kHandshakeHeaderLen) return std::nullopt;
  HandshakeHeader h;
  h.type = static_cast<HandshakeType>(buf[0]);
  h.length = (uint32_t{buf[1]} << 16) | (uint32_t{buf[2]} << 8) | uint32_t{buf[3]};
  return h;
}

const std::array<uint8_t, 32>& hello_retry_request_random() {
  static const std::array<uint8_t, 32> r = {
      0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
      0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  return r;
}

namespace {
// id-Ed25519 (1.3.101.112) SubjectPublicKeyInfo prefix, RFC 8410 4 / 10.1.
constexpr std::array<uint8_t, 12> kEd25519SpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
}  // namespace

Bytes ed25519_spki(const Ed25519Key& public_key) {
  Bytes out(kEd25519SpkiPrefix.size() + public_key.size());
  std::memcpy(out.data(), kEd25519SpkiPrefix.data(), kEd25519SpkiPrefix.size());
  std::memcpy(out.data() + kEd25519SpkiPrefix.size(), public_key.data(), public_key.size());
  return out;
}

Result<Ed25519Key> parse_ed25519_spki(ByteView der) {
  if (der.size() != kEd25519SpkiPrefix.size() + 32 ||
      !std::equal(kEd25519SpkiPrefix.begin(), kEd25519SpkiPrefix.end(), der.begin())) {
    return make_error("not an Ed25519 SubjectPublicKeyInfo");
  }
  Ed25519Key k{};
  std::memcpy(k.data(), der.data() + kEd25519SpkiPrefix.size(), k.size());
  return k;
}

Bytes certificate_verify_content(const Digest& transcript_hash, bool server) {
  static constexpr std::string_view kServer = "TLS 1.3, server CertificateVerify";
  static constexpr std::string_view kClient = "TLS 1.3, client CertificateVerify";
  const std::string_view ctx = server ? kServer : kClient;
  Bytes out(64 + ctx.size() + 1 + transcript_hash.size(), 0x20);
  std::memcpy(out.data() + 64, ctx.data(), ctx.size());
  out[64 + ctx.size()] = 0x00;
  std::memcpy(out.data() + 64 + ctx.size() + 1, transcript_hash.data(), transcript_hash.size());
  return out;
}

// ----------------------------------------------------------------------------------------
// ClientHello

Bytes encode(const ClientHello& m) {
  Bytes body;
  Writer w(body);
  w.u16(m.legacy_version);
  w.bytes(m.random);
  size_t at = w.begin_vec(1);
  w.bytes(m.legacy_session_id);
  w.end_vec(at, 1);
  const Bytes suites = u16_list(m.cipher_suites, 2);
  w.bytes(suites);
  at = w.begin_vec(1);
  w.bytes(m.legacy_compression_methods);
  w.end_vec(at, 1);

  const size_t ext_at = w.begin_vec(2);
  if (!m.server_name.empty()) {
    Bytes d;
    Writer e(d);
    const size_t list = e.begin_vec(2);
    e.u8(0);  // host_name
    const size_t name = e.begin_vec(2);
    e.bytes(ByteView(reinterpret_cast<const uint8_t*>(m.server_name.data()), m.server_name.size()));
    e.end_vec(name, 2);
    e.end_vec(list, 2);
    put_extension(w, ext::kServerName, d);
  }
  if (!m.supported_groups.empty()) put_extension(w, ext::kSupportedGroups, u16_list(m.supported_groups, 2));
  if (!m.signature_algorithms.empty()) {
    put_extension(w, ext::kSignatureAlgorithms, u16_list(m.signature_algorithms, 2));
  }
  if (!m.server_certificate_types.empty()) {
    Bytes d;
    Writer e(d);
    const size_t list = e.begin_vec(1);
    for (uint8_t t : m.server_certificate_types) e.u8(t);
    e.end_vec(list, 1);
    put_extension(w, ext::kServerCertificateType, d);
  }
  if (!m.key_shares.empty() || m.has_key_share) {
    Bytes d;
    Writer e(d);
    const size_t list = e.begin_vec(2);
    for (const auto& ks : m.key_shares) {
      e.u16(ks.group);
      const size_t k = e.begin_vec(2);
      e.bytes(ks.key_exchange);
      e.end_vec(k, 2);
    }
    e.end_vec(list, 2);
    put_extension(w, ext::kKeyShare, d);
  }
  if (!m.supported_versions.empty()) put_extension(w, ext::kSupportedVersions, u16_list(m.supported_versions, 1));
  w.end_vec(ext_at, 2);
  return frame(HandshakeType::client_hello, body);
}

Result<ClientHello> decode_client_hello(ByteView body) {
  ClientHello m;
  Reader r(body);
  ByteView random, sid, suites, comp;
  if (!r.u16(m.legacy_version) || !r.bytes(32, random) || !r.vec(1, 0, 32, sid) ||
      !r.vec(2, 2, 0xfffe, suites) || !r.vec(1, 1, 0xff, comp)) {
    return make_error("ClientHello: truncated or bad vector length");
  }
  if (suites.size() % 2 != 0) return make_error("ClientHello: odd cipher_suites length");
  std::memcpy(m.random.data(), random.data(), 32);
  m.legacy_session_id.assign(sid.begin(), sid.end());
  for (size_t i = 0; i < suites.size(); i += 2) m.cipher_suites.push_back(load_be16(suites.data() + i));
  m.legacy_compression_methods.assign(comp.begin(), comp.end());
  if (r.at_end()) return m;  // no extensions at all (a pre-TLS 1.3 hello)
  ByteView exts;
  if (!r.vec(2, 0, 0xffff, exts) || !r.at_end()) return make_error("ClientHello: bad extensions block");

  const char* why = nullptr;
  const bool ok = for_each_extension(exts, m.extensions_seen, [&](uint16_t type, ByteView d) {
    if (m.has_pre_shared_key) {
      why = "pre_shared_key is not the last extension";  // RFC 8446 4.2.11
      return false;
    }
    switch (type) {
      case ext::kServerName: {
        Reader e(d);
        ByteView list;
        if (!e.vec(2, 1, 0xffff, list) || !e.at_end()) return false;
        Reader l(list);
        while (!l.at_end()) {
          uint8_t name_type;
          ByteView name;
          if (!l.u8(name_type) || !l.vec(2, 1, 0xffff, name)) return false;
          if (name_type == 0) {
            if (!m.server_name.empty()) return false;  // one host_name only (RFC 6066 3)
            m.server_name.assign(name.begin(), name.end());
          }
        }
        return l.ok();
      }
      case ext::kSupportedGroups: return read_u16_list(d, 2, 0xfffe, m.supported_groups);
      case ext::kSignatureAlgorithms: return read_u16_list(d, 2, 0xfffe, m.signature_algorithms);
      case ext::kSupportedVersions: return read_u16_list(d, 1, 254, m.supported_versions);
      case ext::kServerCertificateType: {
        Reader e(d);
        ByteView list;
        if (!e.vec(1, 1, 0xff, list) || !e.at_end()) return false;
        m.server_certificate_types.assign(list.begin(), list.end());
        return true;
      }
      case ext::kKeyShare: {
        Reader e(d);
        ByteView list;
        if (!e.vec(2, 0, 0xffff, list) || !e.at_end()) return false;
        m.has_key_share = true;
        Reader l(list);
        while (!l.at_end()) {
          KeyShareEntry ks;
          ByteView key;
          if (!l.u16(ks.group) || !l.vec(2, 1, 0xffff, key)) return false;
          ks.key_exchange.assign(key.begin(), key.end());
          m.key_shares.push_back(std::move(ks));
        }
        return l.ok();
      }
      case ext::kPreSharedKey: m.has_pre_shared_key = true; return true;
      case ext::kEarlyData: m.has_early_data = true; return d.empty();
      default: return true;  // unknown: skipped
    }
  });
  if (!ok) return make_error(std::string("ClientHello: ") + (why ? why : "malformed extension"));
  return m;
}

// ----------------------------------------------------------------------------------------
// ServerHello

Bytes encode(const ServerHello& m) {
  Bytes body;
  Writer w(body);
  w.u16(m.legacy_version);
  w.bytes(m.random);
  const size_t at = w.begin_vec(1);
  w.bytes(m.legacy_session_id_echo);
  w.end_vec(at, 1);
  w.u16(m.cipher_suite);
  w.u8(m.legacy_compression_method);
  const size_t ext_at = w.begin_vec(2);
  // key_share before supported_versions, the order of RFC 8448's trace.
  if (m.key_share) {
    Bytes d;
    Writer e(d);
    e.u16(m.key_share->group);
    const size_t k = e.begin_vec(2);
    e.bytes(m.key_share->key_exchange);
    e.end_vec(k, 2);
    put_extension(w, ext::kKeyShare, d);
  }
  if (m.selected_version != 0) {
    Bytes d;
    Writer(d).u16(m.selected_version);
    put_extension(w, ext::kSupportedVersions, d);
  }
  w.end_vec(ext_at, 2);
  return frame(HandshakeType::server_hello, body);
}

Result<ServerHello> decode_server_hello(ByteView body) {
  ServerHello m;
  Reader r(body);
  ByteView random, sid, exts;
  if (!r.u16(m.legacy_version) || !r.bytes(32, random) || !r.vec(1, 0, 32, sid) ||
      !r.u16(m.cipher_suite) || !r.u8(m.legacy_compression_method) || !r.vec(2, 0, 0xffff, exts) ||
      !r.at_end()) {
    return make_error("ServerHello: truncated or bad vector length");
  }
  std::memcpy(m.random.data(), random.data(), 32);
  m.legacy_session_id_echo.assign(sid.begin(), sid.end());
  m.is_hello_retry_request = m.random == hello_retry_request_random();
  const bool ok = for_each_extension(exts, m.extensions_seen, [&](uint16_t type, ByteView d) {
    Reader e(d);
    switch (type) {
      case ext::kSupportedVersions: return e.u16(m.selected_version) && e.at_end();
      case ext::kKeyShare: {
        if (m.is_hello_retry_request) return e.u16(m.hrr_selected_group) && e.at_end();
        KeyShareEntry ks;
        ByteView key;
        if (!e.u16(ks.group) || !e.vec(2, 1, 0xffff, key) || !e.at_end()) return false;
        ks.key_exchange.assign(key.begin(), key.end());
        m.key_share = std::move(ks);
        return true;
      }
      default: return true;
    }
  });
  if (!ok) return make_error("ServerHello: malformed extension");
  return m;
}

// ----------------------------------------------------------------------------------------
// EncryptedExtensions

Bytes encode(const EncryptedExtensions& m) {
  Bytes body;
  Writer w(body);
  const size_t ext_at = w.begin_vec(2);
  if (!m.supported_groups.empty()) put_extension(w, ext::kSupportedGroups, u16_list(m.supported_groups, 2));
  if (m.server_name_ack) put_extension(w, ext::kServerName, {});
  if (m.server_certificate_type) put_extension(w, ext::kServerCertificateType, Bytes{*m.server_certificate_type});
  w.end_vec(ext_at, 2);
  return frame(HandshakeType::encrypted_extensions, body);
}

Result<EncryptedExtensions> decode_encrypted_extensions(ByteView body) {
  EncryptedExtensions m;
  Reader r(body);
  ByteView exts;
  if (!r.vec(2, 0, 0xffff, exts) || !r.at_end()) return make_error("EncryptedExtensions: bad length");
  const bool ok = for_each_extension(exts, m.extensions_seen, [&](uint16_t type, ByteView d) {
    switch (type) {
      case ext::kServerName: m.server_name_ack = true; return d.empty();
      case ext::kSupportedGroups: return read_u16_list(d, 2, 0xfffe, m.supported_groups);
      case ext::kServerCertificateType:
        if (d.size() != 1) return false;
        m.server_certificate_type = d[0];
        return true;
      default: return true;
    }
  });
  if (!ok) return make_error("EncryptedExtensions: malformed extension");
  return m;
}

// ----------------------------------------------------------------------------------------
// Certificate, CertificateVerify, Finished, KeyUpdate

Bytes encode(const Certificate& m) {
  Bytes body;
  Writer w(body);
  size_t at = w.begin_vec(1);
  w.bytes(m.request_context);
  w.end_vec(at, 1);
  at = w.begin_vec(3);
  for (const auto& e : m.entries) {
    const size_t d = w.begin_vec(3);
    w.bytes(e.data);
    w.end_vec(d, 3);
    const size_t x = w.begin_vec(2);
    w.bytes(e.extensions);
    w.end_vec(x, 2);
  }
  w.end_vec(at, 3);
  return frame(HandshakeType::certificate, body);
}

Result<Certificate> decode_certificate(ByteView body) {
  Certificate m;
  Reader r(body);
  ByteView ctx, list;
  if (!r.vec(1, 0, 0xff, ctx) || !r.vec(3, 0, 0xffffff, list) || !r.at_end()) {
    return make_error("Certificate: truncated or bad vector length");
  }
  m.request_context.assign(ctx.begin(), ctx.end());
  Reader l(list);
  while (!l.at_end()) {
    ByteView data, exts;
    if (!l.vec(3, 1, 0xffffff, data) || !l.vec(2, 0, 0xffff, exts)) {
      return make_error("Certificate: bad CertificateEntry");
    }
    // The entry's extensions must themselves be a well-formed list.
    std::vector<uint16_t> seen;
    if (!for_each_extension(exts, seen, [](uint16_t, ByteView) { return true; })) {
      return make_error("Certificate: bad CertificateEntry extensions");
    }
    m.entries.push_back({Bytes(data.begin(), data.end()), Bytes(exts.begin(), exts.end())});
  }
  return m;
}

Bytes encode(const CertificateVerify& m) {
  Bytes body;
  Writer w(body);
  w.u16(m.algorithm);
  const size_t at = w.begin_vec(2);
  w.bytes(m.signature);
  w.end_vec(at, 2);
  return frame(HandshakeType::certificate_verify, body);
}

Result<CertificateVerify> decode_certificate_verify(ByteView body) {
  CertificateVerify m;
  Reader r(body);
  ByteView sig;
  if (!r.u16(m.algorithm) || !r.vec(2, 0, 0xffff, sig) || !r.at_end()) {
    return make_error("CertificateVerify: truncated or bad vector length");
  }
  m.signature.assign(sig.begin(), sig.end());
  return m;
}

Bytes encode(const Finished& m) { return frame(HandshakeType::finished, m.verify_data); }

Result<Finished> decode_finished(ByteView body, size_t hash_len) {
  if (body.size() != hash_len) return make_error("Finished: verify_data is not Hash.length bytes");
  return Finished{Bytes(body.begin(), body.end())};
}

Bytes encode(const KeyUpdate& m) {
  return frame(HandshakeType::key_update, Bytes{static_cast<uint8_t>(m.update_requested ? 1 : 0)});
}

Result<KeyUpdate> decode_key_update(ByteView body) {
  if (body.size() != 1) return make_error("KeyUpdate: body is not one byte");
  if (body[0] > 1) return make_error("KeyUpdate: bad request_update value");
  return KeyUpdate{body[0] == 1};
}

// ----------------------------------------------------------------------------------------
// Summaries

std::string summarize(const ClientHello& m) {
  std::string s = "ClientHello";
  if (!m.server_name.empty()) s += " sni=" + m.server_name;
  s += " suites=" + join(m.cipher_suites, suite_name);
  s += " versions=" + join(m.supported_versions, hex16);
  s += " groups=" + join(m.supported_groups, group_name);
  s += " key_share=" + join(m.key_shares, [](const KeyShareEntry& k) { return group_name(k.group); });
  s += " sig_algs=" + join(m.signature_algorithms, sig_name);
  if (!m.server_certificate_types.empty()) {
    s += " server_cert_types=" + join(m.server_certificate_types, cert_type_name);
  }
  return s;
}

std::string summarize(const ServerHello& m) {
  std::string s = m.is_hello_retry_request ? "HelloRetryRequest" : "ServerHello";
  s += " suite=" + suite_name(m.cipher_suite);
  if (m.selected_version) s += " version=" + hex16(m.selected_version);
  if (m.key_share) s += " key_share=" + group_name(m.key_share->group);
  if (m.is_hello_retry_request) s += " selected_group=" + group_name(m.hrr_selected_group);
  return s;
}

std::string summarize(const EncryptedExtensions& m) {
  std::string s = "EncryptedExtensions";
  if (m.server_certificate_type) s += " server_cert_type=" + cert_type_name(*m.server_certificate_type);
  if (m.server_name_ack) s += " sni_ack";
  return s;
}

std::string summarize(const Certificate& m) {
  std::string s = "Certificate entries=" + std::to_string(m.entries.size());
  if (!m.entries.empty()) s += " first=" + std::to_string(m.entries[0].data.size()) + "B";
  return s;
}

std::string summarize(const CertificateVerify& m) {
  return "CertificateVerify alg=" + sig_name(m.algorithm) + " sig=" + std::to_string(m.signature.size()) + "B";
}

}  // namespace mz::l6
