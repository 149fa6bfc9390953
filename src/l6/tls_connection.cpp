// TLS 1.3 endpoint state machine (see tls_connection.hpp for the contract).
#include "megzawicol/l6/tls_connection.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace mz::l6 {

namespace {

template <class T>
bool contains(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string hex_of(ByteView b) { return to_hex(b); }

}  // namespace

std::string cipher_suite_name(uint16_t suite) {
  return suite == kTlsAes128GcmSha256 ? "TLS_AES_128_GCM_SHA256" : "unknown";
}

std::string ed25519_key_fingerprint(const Ed25519Key& key) {
  return "sha256:" + hex_of(sha256(ed25519_spki(key)));
}

TlsConnection::TlsConnection(TlsConfig config, RandomSource& rng)
    : cfg_(std::move(config)),
      rng_(rng),
      state_(cfg_.is_server ? State::ServerWaitClientHello : State::Idle) {
  if (cfg_.is_server) server_public_ = ed25519_public(cfg_.server_ed25519_private);
}

bool TlsConnection::handshaking() const {
  switch (state_) {
    case State::ClientWaitServerHello:
    case State::ClientWaitEncryptedExtensions:
    case State::ClientWaitCertificate:
    case State::ClientWaitCertificateVerify:
    case State::ClientWaitFinished:
    case State::ServerWaitClientHello:
    case State::ServerWaitClientFinished:
      return true;
    default:
      return false;
  }
}

// ----------------------------------------------------------------------------------------
// Public entry points

void TlsConnection::start() {
  if (cfg_.is_server || state_ != State::Idle) return;
  if (cfg_.server_name.size() > 253) {
    // A configuration error: nothing was sent, so there is no one to alert.
    state_ = State::Failed;
    error_ = "server_name longer than 253 bytes";
    return;
  }
  rng_.fill(client_random_.data(), client_random_.size());
  ephemeral_ = x25519_generate(rng_);
  ClientHello ch;
  ch.random = client_random_;
  ch.legacy_session_id = session_id_;  // empty: no middlebox compatibility mode
  ch.cipher_suites = {kTlsAes128GcmSha256};
  ch.server_name = cfg_.server_name;
  ch.supported_versions = {kTls13};
  ch.supported_groups = {kGroupX25519};
  ch.signature_algorithms = {kSigEd25519};
  ch.key_shares = {KeyShareEntry{kGroupX25519, Bytes(ephemeral_.public_key.begin(), ephemeral_.public_key.end())}};
  ch.has_key_share = true;
  ch.server_certificate_types = {kCertTypeRawPublicKey};
  const Bytes msg = encode(ch);
  transcript_.update(msg);
  send_handshake(msg, summarize(ch));
  flush_handshake();  // record version 0x0301 for the initial ClientHello (RFC 8446 5.1)
  hello_seen_ = true;
  state_ = State::ClientWaitServerHello;
}

void TlsConnection::handle_transport(ByteView in) {
  // Decrypted application data is never longer than the records carrying it: reserve it
  // once rather than let app_in_ grow (and move) record by record.
  if (const size_t need = app_in_.size() + in.size(); read_ && handshake_done_ && need > app_in_.capacity())
    app_in_.reserve(std::max(need, 2 * app_in_.capacity()));
  while (!in.empty() && !failed() && state_ != State::Closed) {
    if (state_ == State::Idle) {
      fail(AlertDescription::unexpected_message, "data received before start()");
      return;
    }
    in = in.subspan(rx_.feed(in));
    if (rx_.error()) {
      const RecordError err = *rx_.error();
      fail(err.alert, err.reason);
      return;
    }
    if (rx_.has_header() && !rx_header_checked_) {
      rx_header_checked_ = true;
      if (!header_acceptable()) return;
    }
    if (rx_.ready()) {
      process_record();
      rx_.clear();
      rx_header_checked_ = false;
    }
  }
}

Bytes TlsConnection::take_transport() { return std::exchange(tx_, Bytes{}); }

Bytes TlsConnection::take_app() { return std::exchange(app_in_, Bytes{}); }

std::optional<TlsEvent> TlsConnection::poll_event() {
  if (events_.empty()) return std::nullopt;
  TlsEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

size_t TlsConnection::write_app(ByteView plaintext) {
  if (failed() || close_sent_) return 0;
  if (!handshake_done_) {
    app_pending_.insert(app_pending_.end(), plaintext.begin(), plaintext.end());
  } else {
    send_app_records(plaintext);
  }
  return plaintext.size();
}

void TlsConnection::close() {
  if (failed() || close_sent_) return;
  close_sent_ = true;
  if (state_ == State::Idle) return;  // nothing was ever sent
  if (!handshake_done_) {
    close_pending_ = true;  // sent after the queued data once the handshake completes
    return;
  }
  send_close_notify();
}

void TlsConnection::key_update(bool request_peer_update) {
  if (failed() || close_sent_ || !handshake_done_) return;
  const Bytes msg = encode(KeyUpdate{request_peer_update});
  send_handshake(msg, request_peer_update ? "KeyUpdate update_requested" : "KeyUpdate update_not_requested");
  flush_handshake();
  write_app_secret_ = next_application_secret(write_app_secret_);
  install_write(Epoch::application, write_app_secret_, ++write_generation_);
}

std::string TlsConnection::keylog_lines() const {
  std::string out;
  const std::string cr = hex_of(client_random_);
  auto line = [&](const char* label, const Secret& s) {
    out += label;
    out += ' ';
    out += cr;
    out += ' ';
    out += hex_of(s);
    out += '\n';
  };
  if (have_handshake_secrets_) {
    line("CLIENT_HANDSHAKE_TRAFFIC_SECRET", ks_.client_handshake_traffic);
    line("SERVER_HANDSHAKE_TRAFFIC_SECRET", ks_.server_handshake_traffic);
  }
  if (have_application_secrets_) {
    line("CLIENT_TRAFFIC_SECRET_0", ks_.client_application_traffic_0);
    line("SERVER_TRAFFIC_SECRET_0", ks_.server_application_traffic_0);
  }
  return out;
}

// ----------------------------------------------------------------------------------------
// Receive path

bool TlsConnection::header_acceptable() {
  switch (rx_.header().type) {
    case ContentType::change_cipher_spec:
      if (!handshaking() || !hello_seen_ || ccs_seen_ || rx_.header().length != 1) {
        fail(AlertDescription::unexpected_message, "unexpected change_cipher_spec record");
        return false;
      }
      return true;
    case ContentType::application_data:
      if (!read_) {
        fail(AlertDescription::unexpected_message, "protected record before any key was installed");
        return false;
      }
      return true;
    case ContentType::alert:
      // Plaintext alerts are accepted during the handshake even once keys are installed: a
      // peer that failed to parse our hello has no keys yet to protect its alert with.
      if (read_ && !handshaking()) {
        fail(AlertDescription::unexpected_message, "unprotected alert after the handshake");
        return false;
      }
      return true;
    case ContentType::handshake:
      if (read_) {
        fail(AlertDescription::unexpected_message, "unprotected handshake record after keys were installed");
        return false;
      }
      return true;
    default:
      fail(AlertDescription::unexpected_message, "unexpected record type");
      return false;
  }
}

void TlsConnection::process_record() {
  // header_acceptable() has vetted the outer type against the state already.
  const ByteView body = rx_.body();
  switch (rx_.header().type) {
    case ContentType::change_cipher_spec:
      // RFC 8446 5: one unprotected 0x01 may arrive after the first ClientHello and before the
      // peer's Finished; it is dropped.
      if (body[0] != 0x01) {
        fail(AlertDescription::unexpected_message, "change_cipher_spec record is not 0x01");
        return;
      }
      ccs_seen_ = true;
      return;
    case ContentType::application_data: {
      ContentType inner = ContentType::invalid;
      // Application data is decrypted straight onto the end of app_in_ (no temporary, no
      // copy); any other inner type is moved out of it again.
      const size_t base = app_in_.size();
      if (auto err = read_->open_append(rx_.header_bytes(), body, inner, app_in_)) {
        fail(err->alert, err->reason);
        return;
      }
      if (inner == ContentType::application_data && hs_in_.empty() && read_epoch_ == Epoch::application) return;
      const Bytes content(app_in_.begin() + static_cast<std::ptrdiff_t>(base), app_in_.end());
      app_in_.resize(base);
      switch (inner) {
        case ContentType::handshake:
          process_handshake_bytes(content);
          return;
        case ContentType::alert:
          process_alert(content);
          return;
        case ContentType::application_data:
          if (!hs_in_.empty()) {
            fail(AlertDescription::unexpected_message, "application data inside a handshake message");
          } else if (read_epoch_ != Epoch::application) {
            fail(AlertDescription::unexpected_message, "application data before the handshake completed");
          }
          return;
        default:
          fail(AlertDescription::unexpected_message,
               "unexpected inner content type " + content_type_name(inner));
          return;
      }
    }
    case ContentType::alert:
      process_alert(body);
      return;
    case ContentType::handshake:
      process_handshake_bytes(body);
      return;
    default:
      fail(AlertDescription::internal_error, "unvetted record type");
      return;
  }
}

void TlsConnection::process_handshake_bytes(ByteView content) {
  if (content.empty()) {
    fail(AlertDescription::unexpected_message, "zero-length handshake record");  // RFC 8446 5.4
    return;
  }
  hs_in_.insert(hs_in_.end(), content.begin(), content.end());
  while (!failed() && state_ != State::Closed) {
    const auto hdr = peek_handshake_header(hs_in_);
    if (!hdr) return;
    if (hdr->length > kMaxHandshakeMessage) {
      fail(AlertDescription::decode_error, handshake_type_name(hdr->type) + " of " +
                                               std::to_string(hdr->length) + " bytes exceeds the limit");
      return;
    }
    const size_t total = kHandshakeHeaderLen + hdr->length;
    if (hs_in_.size() < total) return;
    const Bytes msg(hs_in_.begin(), hs_in_.begin() + static_cast<std::ptrdiff_t>(total));
    hs_in_.erase(hs_in_.begin(), hs_in_.begin() + static_cast<std::ptrdiff_t>(total));
    process_handshake_message(hdr->type, msg);
  }
}

void TlsConnection::process_handshake_message(HandshakeType type, ByteView msg) {
  const ByteView body = msg.subspan(kHandshakeHeaderLen);
  auto expect = [&](HandshakeType want) {
    if (type == want) return true;
    fail(AlertDescription::unexpected_message,
         "got " + handshake_type_name(type) + " while waiting for " + handshake_type_name(want));
    return false;
  };
  switch (state_) {
    case State::ServerWaitClientHello:
      if (expect(HandshakeType::client_hello)) on_client_hello(msg, body);
      return;
    case State::ClientWaitServerHello:
      if (expect(HandshakeType::server_hello)) on_server_hello(msg, body);
      return;
    case State::ClientWaitEncryptedExtensions:
      if (expect(HandshakeType::encrypted_extensions)) on_encrypted_extensions(msg, body);
      return;
    case State::ClientWaitCertificate:
      if (type == HandshakeType::certificate_request) {
        fail(AlertDescription::unexpected_message, "CertificateRequest: client authentication is not supported");
        return;
      }
      if (expect(HandshakeType::certificate)) on_certificate(msg, body);
      return;
    case State::ClientWaitCertificateVerify:
      if (expect(HandshakeType::certificate_verify)) on_certificate_verify(msg, body);
      return;
    case State::ClientWaitFinished:
    case State::ServerWaitClientFinished:
      if (expect(HandshakeType::finished)) on_finished(msg, body);
      return;
    case State::Connected:
      on_post_handshake(type, msg, body);
      return;
    default:
      fail(AlertDescription::unexpected_message, "unexpected " + handshake_type_name(type));
      return;
  }
}

void TlsConnection::process_alert(ByteView content) {
  if (!hs_in_.empty()) {
    fail(AlertDescription::unexpected_message, "alert inside a handshake message");
    return;
  }
  if (content.empty()) {
    fail(AlertDescription::unexpected_message, "zero-length alert record");
    return;
  }
  if (content.size() != 2) {
    fail(AlertDescription::decode_error, "alert record is not 2 bytes");
    return;
  }
  const auto level = static_cast<AlertLevel>(content[0]);
  const auto desc = static_cast<AlertDescription>(content[1]);
  events_.push_back(Alert{false, level, desc, "received from peer"});
  if (desc == AlertDescription::user_canceled) return;  // a warning; close_notify follows
  if (desc == AlertDescription::close_notify) {
    if (!handshake_done_) {
      state_ = State::Failed;
      error_ = "peer closed the connection during the handshake";
      return;
    }
    state_ = State::Closed;
    events_.push_back(Closed{});
    return;
  }
  // RFC 8446 6: every other alert ends the connection, whatever its level says.
  state_ = State::Failed;
  error_ = "peer sent alert " + alert_name(desc);
}

// ----------------------------------------------------------------------------------------
// Handshake messages

void TlsConnection::on_client_hello(ByteView msg, ByteView body) {
  auto ch = decode_client_hello(body);
  if (!ch) return fail(AlertDescription::decode_error, ch.error().message);
  events_.push_back(MessageReceived{HandshakeType::client_hello, msg.size(), summarize(*ch)});
  hello_seen_ = true;
  client_random_ = ch->random;

  // RFC 8446 4.1.2, 4.2, 9.2; RFC 7250 4.
  if (!contains(ch->supported_versions, kTls13)) {
    return fail(AlertDescription::protocol_version, "client does not offer TLS 1.3");
  }
  if (ch->legacy_compression_methods != Bytes{0}) {
    return fail(AlertDescription::illegal_parameter, "legacy_compression_methods is not [null]");
  }
  if (!contains(ch->cipher_suites, kTlsAes128GcmSha256)) {
    return fail(AlertDescription::handshake_failure, "no common cipher suite (TLS_AES_128_GCM_SHA256 only)");
  }
  if (ch->signature_algorithms.empty()) {
    return fail(AlertDescription::missing_extension, "no signature_algorithms extension");
  }
  if (!contains(ch->signature_algorithms, kSigEd25519)) {
    return fail(AlertDescription::handshake_failure, "client does not accept ed25519 signatures");
  }
  if (ch->supported_groups.empty() || !ch->has_key_share) {
    return fail(AlertDescription::missing_extension, "no supported_groups or no key_share extension");
  }
  if (!contains(ch->supported_groups, kGroupX25519)) {
    return fail(AlertDescription::handshake_failure, "no common group (x25519 only)");
  }
  const auto share = std::find_if(ch->key_shares.begin(), ch->key_shares.end(),
                                  [](const KeyShareEntry& k) { return k.group == kGroupX25519; });
  if (share == ch->key_shares.end()) {
    return fail(AlertDescription::handshake_failure, "no x25519 key share (HelloRetryRequest not supported)");
  }
  if (!contains(ch->server_certificate_types, kCertTypeRawPublicKey)) {
    return fail(AlertDescription::unsupported_certificate, "client does not accept a raw public key");
  }
  if (share->key_exchange.size() != 32) {
    return fail(AlertDescription::illegal_parameter, "x25519 key share is not 32 bytes");
  }
  ephemeral_ = x25519_generate(rng_);
  auto shared = x25519_agree(ephemeral_.private_key, share->key_exchange);
  if (!shared) return fail(AlertDescription::illegal_parameter, shared.error().message);
  transcript_.update(msg);

  ServerHello sh;
  rng_.fill(sh.random.data(), sh.random.size());
  sh.legacy_session_id_echo = ch->legacy_session_id;
  sh.cipher_suite = kTlsAes128GcmSha256;
  sh.selected_version = kTls13;
  sh.key_share = KeyShareEntry{kGroupX25519, Bytes(ephemeral_.public_key.begin(), ephemeral_.public_key.end())};
  const Bytes sh_msg = encode(sh);
  transcript_.update(sh_msg);
  send_handshake(sh_msg, summarize(sh));
  flush_handshake();

  ks_.set_shared_secret(*shared);
  ks_.derive_handshake_traffic(transcript_.current());
  have_handshake_secrets_ = true;
  install_write(Epoch::handshake, ks_.server_handshake_traffic);
  install_read(Epoch::handshake, ks_.client_handshake_traffic);
  if (failed()) return;

  EncryptedExtensions ee;
  ee.server_certificate_type = kCertTypeRawPublicKey;
  const Bytes ee_msg = encode(ee);
  transcript_.update(ee_msg);
  send_handshake(ee_msg, summarize(ee));

  Certificate cert;
  cert.entries.push_back(CertificateEntry{ed25519_spki(server_public_), {}});
  const Bytes cert_msg = encode(cert);
  transcript_.update(cert_msg);
  send_handshake(cert_msg, summarize(cert));

  CertificateVerify cv;
  cv.algorithm = kSigEd25519;
  const Ed25519Signature sig =
      ed25519_sign(cfg_.server_ed25519_private, certificate_verify_content(transcript_.current(), true));
  cv.signature.assign(sig.begin(), sig.end());
  const Bytes cv_msg = encode(cv);
  transcript_.update(cv_msg);
  send_handshake(cv_msg, summarize(cv));

  const Digest vd = finished_verify_data(ks_.server_handshake_traffic, transcript_.current());
  const Bytes fin_msg = encode(Finished{Bytes(vd.begin(), vd.end())});
  transcript_.update(fin_msg);
  send_handshake(fin_msg, "Finished");
  flush_handshake();  // EE, Certificate, CertificateVerify, Finished in one protected record

  ks_.derive_application_traffic(transcript_.current());
  have_application_secrets_ = true;
  write_app_secret_ = ks_.server_application_traffic_0;
  install_write(Epoch::application, write_app_secret_);
  state_ = State::ServerWaitClientFinished;
}

void TlsConnection::on_server_hello(ByteView msg, ByteView body) {
  auto sh = decode_server_hello(body);
  if (!sh) return fail(AlertDescription::decode_error, sh.error().message);
  events_.push_back(MessageReceived{HandshakeType::server_hello, msg.size(), summarize(*sh)});
  if (sh->is_hello_retry_request) {
    // We offered an x25519 share, the only group we support: any HelloRetryRequest either
    // asks for that group again or for one we did not offer (RFC 8446 4.1.4).
    return fail(AlertDescription::illegal_parameter, "HelloRetryRequest is not supported");
  }
  if (sh->selected_version == 0) {
    return fail(AlertDescription::protocol_version, "server did not negotiate TLS 1.3");
  }
  if (sh->selected_version != kTls13 || sh->legacy_version != kLegacyVersion) {
    return fail(AlertDescription::illegal_parameter, "server selected a version we did not offer");
  }
  if (sh->legacy_session_id_echo != session_id_) {
    return fail(AlertDescription::illegal_parameter, "legacy_session_id_echo does not match");
  }
  if (sh->cipher_suite != kTlsAes128GcmSha256) {
    return fail(AlertDescription::illegal_parameter, "server selected a cipher suite we did not offer");
  }
  if (sh->legacy_compression_method != 0) {
    return fail(AlertDescription::illegal_parameter, "legacy_compression_method is not 0");
  }
  for (uint16_t t : sh->extensions_seen) {
    if (t != ext::kKeyShare && t != ext::kSupportedVersions) {
      return fail(AlertDescription::unsupported_extension,
                  "ServerHello carries extension " + std::to_string(t) + " we did not offer");
    }
  }
  if (!sh->key_share) return fail(AlertDescription::missing_extension, "ServerHello has no key_share");
  if (sh->key_share->group != kGroupX25519) {
    return fail(AlertDescription::illegal_parameter, "server key share is not for x25519");
  }
  auto shared = x25519_agree(ephemeral_.private_key, sh->key_share->key_exchange);
  if (!shared) return fail(AlertDescription::illegal_parameter, shared.error().message);
  transcript_.update(msg);
  ks_.set_shared_secret(*shared);
  ks_.derive_handshake_traffic(transcript_.current());
  have_handshake_secrets_ = true;
  install_read(Epoch::handshake, ks_.server_handshake_traffic);
  if (failed()) return;
  install_write(Epoch::handshake, ks_.client_handshake_traffic);
  state_ = State::ClientWaitEncryptedExtensions;
}

void TlsConnection::on_encrypted_extensions(ByteView msg, ByteView body) {
  auto ee = decode_encrypted_extensions(body);
  if (!ee) return fail(AlertDescription::decode_error, ee.error().message);
  events_.push_back(MessageReceived{HandshakeType::encrypted_extensions, msg.size(), summarize(*ee)});
  for (uint16_t t : ee->extensions_seen) {
    // RFC 8446 4.3.1: extensions that belong in ServerHello are forbidden here.
    if (t == ext::kKeyShare || t == ext::kSupportedVersions || t == ext::kPreSharedKey ||
        t == ext::kSignatureAlgorithms || t == ext::kPskKeyExchangeModes || t == ext::kCookie) {
      return fail(AlertDescription::illegal_parameter,
                  "EncryptedExtensions carries forbidden extension " + std::to_string(t));
    }
  }
  if (ee->server_certificate_type != kCertTypeRawPublicKey) {
    return fail(AlertDescription::unsupported_certificate, "server did not select a raw public key");
  }
  transcript_.update(msg);
  state_ = State::ClientWaitCertificate;
}

void TlsConnection::on_certificate(ByteView msg, ByteView body) {
  auto cert = decode_certificate(body);
  if (!cert) return fail(AlertDescription::decode_error, cert.error().message);
  events_.push_back(MessageReceived{HandshakeType::certificate, msg.size(), summarize(*cert)});
  if (!cert->request_context.empty()) {
    return fail(AlertDescription::illegal_parameter, "server Certificate has a request context");
  }
  if (cert->entries.empty()) {
    return fail(AlertDescription::decode_error, "empty server Certificate");  // RFC 8446 4.4.2.4
  }
  if (cert->entries.size() != 1) {
    return fail(AlertDescription::bad_certificate, "a raw public key Certificate has one entry");
  }
  auto key = parse_ed25519_spki(cert->entries[0].data);
  if (!key) return fail(AlertDescription::bad_certificate, key.error().message);
  server_public_ = *key;
  if (!equal_constant_time(server_public_, cfg_.pinned_server_public)) {
    return fail(AlertDescription::bad_certificate,
                "server key " + ed25519_key_fingerprint(server_public_) + " does not match the pinned key");
  }
  transcript_.update(msg);
  state_ = State::ClientWaitCertificateVerify;
}

void TlsConnection::on_certificate_verify(ByteView msg, ByteView body) {
  auto cv = decode_certificate_verify(body);
  if (!cv) return fail(AlertDescription::decode_error, cv.error().message);
  events_.push_back(MessageReceived{HandshakeType::certificate_verify, msg.size(), summarize(*cv)});
  if (cv->algorithm != kSigEd25519) {
    return fail(AlertDescription::illegal_parameter, "CertificateVerify uses an algorithm we did not offer");
  }
  const Bytes content = certificate_verify_content(transcript_.current(), true);
  if (!ed25519_verify(server_public_, content, cv->signature)) {
    return fail(AlertDescription::decrypt_error, "CertificateVerify signature does not verify");
  }
  transcript_.update(msg);
  state_ = State::ClientWaitFinished;
}

void TlsConnection::on_finished(ByteView msg, ByteView body) {
  auto fin = decode_finished(body);
  if (!fin) return fail(AlertDescription::decode_error, fin.error().message);
  events_.push_back(MessageReceived{HandshakeType::finished, msg.size(), "Finished"});
  const bool client = !cfg_.is_server;
  const Secret& peer_base = client ? ks_.server_handshake_traffic : ks_.client_handshake_traffic;
  const Digest expected = finished_verify_data(peer_base, transcript_.current());
  if (!equal_constant_time(expected, fin->verify_data)) {
    return fail(AlertDescription::decrypt_error, "peer Finished does not verify");
  }
  transcript_.update(msg);

  if (client) {
    ks_.derive_application_traffic(transcript_.current());
    have_application_secrets_ = true;
    read_app_secret_ = ks_.server_application_traffic_0;
    install_read(Epoch::application, read_app_secret_);
    if (failed()) return;
    const Digest vd = finished_verify_data(ks_.client_handshake_traffic, transcript_.current());
    const Bytes fin_msg = encode(Finished{Bytes(vd.begin(), vd.end())});
    transcript_.update(fin_msg);
    send_handshake(fin_msg, "Finished");
    flush_handshake();
    ks_.derive_resumption(transcript_.current());
    write_app_secret_ = ks_.client_application_traffic_0;
    install_write(Epoch::application, write_app_secret_);
  } else {
    ks_.derive_resumption(transcript_.current());
    read_app_secret_ = ks_.client_application_traffic_0;
    install_read(Epoch::application, read_app_secret_);
    if (failed()) return;
  }
  enter_connected();
}

void TlsConnection::on_post_handshake(HandshakeType type, ByteView msg, ByteView body) {
  if (type == HandshakeType::new_session_ticket && !cfg_.is_server) {
    // No resumption yet: the ticket is dropped (it stays out of the transcript anyway).
    events_.push_back(MessageReceived{type, msg.size(), "NewSessionTicket (ignored: no resumption)"});
    return;
  }
  if (type != HandshakeType::key_update) {
    return fail(AlertDescription::unexpected_message, "unexpected " + handshake_type_name(type) + " after the handshake");
  }
  auto ku = decode_key_update(body);
  if (!ku) {
    const bool bad_value = body.size() == 1;
    return fail(bad_value ? AlertDescription::illegal_parameter : AlertDescription::decode_error,
                ku.error().message);
  }
  events_.push_back(MessageReceived{type, msg.size(),
                                    ku->update_requested ? "KeyUpdate update_requested" : "KeyUpdate update_not_requested"});
  read_app_secret_ = next_application_secret(read_app_secret_);
  install_read(Epoch::application, read_app_secret_, ++read_generation_);
  if (failed()) return;
  if (ku->update_requested && !close_sent_) key_update(false);  // RFC 8446 4.6.3
}

// ----------------------------------------------------------------------------------------
// Send path and state changes

void TlsConnection::send_handshake(const Bytes& msg, std::string summary) {
  hs_out_.insert(hs_out_.end(), msg.begin(), msg.end());
  events_.push_back(MessageSent{static_cast<HandshakeType>(msg[0]), msg.size(), std::move(summary)});
}

void TlsConnection::flush_handshake() {
  if (hs_out_.empty()) return;
  if (write_) {
    ByteView rest(hs_out_);
    while (!rest.empty()) {
      const size_t n = std::min(rest.size(), kMaxPlaintext);
      write_->seal(ContentType::handshake, rest.first(n), tx_);
      rest = rest.subspan(n);
    }
  } else {
    const bool initial_client_hello = !cfg_.is_server && !hello_seen_;
    append_plaintext_records(ContentType::handshake, hs_out_, tx_, initial_client_hello ? 0x0301 : kRecordVersion);
  }
  hs_out_.clear();
}

void TlsConnection::send_app_records(ByteView data) {
  assert(write_ && write_epoch_ == Epoch::application);
  // Room for every record at once: a large write is not moved again as tx_ grows.
  const size_t records = (data.size() + kMaxPlaintext - 1) / kMaxPlaintext;
  tx_.reserve(tx_.size() + data.size() + records * (kRecordHeaderLen + 1 + kAeadTagLen));
  while (!data.empty()) {
    // RFC 8446 5.5: at most 2^24.5 full records under one AES-GCM key; rekey well before.
    if (write_->sequence() >= kRecordsPerKey) key_update(false);
    const size_t n = std::min(data.size(), kMaxPlaintext);
    write_->seal(ContentType::application_data, data.first(n), tx_);
    data = data.subspan(n);
  }
}

void TlsConnection::send_alert(AlertDescription d, AlertLevel level, const std::string& reason) {
  const uint8_t a[2] = {static_cast<uint8_t>(level), static_cast<uint8_t>(d)};
  if (write_) {
    write_->seal(ContentType::alert, a, tx_);
  } else {
    append_plaintext_records(ContentType::alert, a, tx_);
  }
  events_.push_back(Alert{true, level, d, reason});
}

void TlsConnection::send_close_notify() {
  // RFC 8446 6.1: close_notify is sent with level warning by convention.
  send_alert(AlertDescription::close_notify, AlertLevel::warning, "close()");
}

void TlsConnection::install_read(Epoch e, const Secret& secret, uint32_t generation) {
  // RFC 8446 5.1: a message before a key change must end at a record boundary.
  if (!hs_in_.empty()) {
    fail(AlertDescription::unexpected_message, "handshake data spans a key change");
    return;
  }
  read_.emplace(traffic_keys(secret));
  read_epoch_ = e;
  events_.push_back(KeysInstalled{e, Direction::read, generation});
}

void TlsConnection::install_write(Epoch e, const Secret& secret, uint32_t generation) {
  write_.emplace(traffic_keys(secret));
  write_epoch_ = e;
  events_.push_back(KeysInstalled{e, Direction::write, generation});
}

void TlsConnection::enter_connected() {
  state_ = State::Connected;
  handshake_done_ = true;
  HandshakeDone done;
  done.cipher_suite = kTlsAes128GcmSha256;
  done.cipher = cipher_suite_name(kTlsAes128GcmSha256);
  if (!cfg_.is_server) done.peer_key_fingerprint = ed25519_key_fingerprint(server_public_);
  events_.push_back(std::move(done));
  if (!app_pending_.empty()) {
    send_app_records(app_pending_);
    app_pending_.clear();
    app_pending_.shrink_to_fit();
  }
  if (close_pending_) {
    close_pending_ = false;
    send_close_notify();
  }
}

void TlsConnection::fail(AlertDescription d, const std::string& reason) {
  if (failed()) return;
  hs_out_.clear();
  app_pending_.clear();
  send_alert(d, AlertLevel::fatal, reason);
  state_ = State::Failed;
  error_ = alert_name(d) + ": " + reason;
}

}  // namespace mz::l6
