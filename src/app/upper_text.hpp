// Trace wording shared by the apps that run the upper layers (http, bulk with TLS).
#pragma once

#include <string>

#include "megzawicol/l5/session.hpp"
#include "megzawicol/l6/tls_connection.hpp"

namespace mz::app {

/// One trace line per TLS event (the http and bulk apps).
inline std::string tls_event_text(const l6::TlsEvent& ev) {
  if (auto* m = std::get_if<l6::MessageSent>(&ev))
    return "sent TLS " + m->summary + " (" + std::to_string(m->length) + " bytes)";
  if (auto* m = std::get_if<l6::MessageReceived>(&ev))
    return "received TLS " + m->summary + " (" + std::to_string(m->length) + " bytes)";
  if (auto* k = std::get_if<l6::KeysInstalled>(&ev)) {
    const char* e = k->epoch == l6::Epoch::handshake ? "handshake" : k->epoch == l6::Epoch::application ? "application" : "initial";
    return std::string("installed ") + e + " traffic keys for " + (k->direction == l6::Direction::read ? "reading" : "writing") +
           " (AES-128-GCM)";
  }
  if (auto* h = std::get_if<l6::HandshakeDone>(&ev))
    return "TLS 1.3 handshake complete: " + h->cipher +
           (h->peer_key_fingerprint.empty() ? std::string() : ", server key " + h->peer_key_fingerprint);
  if (auto* a = std::get_if<l6::Alert>(&ev)) {
    if (a->description == l6::AlertDescription::close_notify)
      return std::string(a->sent ? "sent" : "received") + " close_notify: no more application data in this direction";
    return std::string(a->sent ? "sent" : "received") + " TLS alert " + l6::alert_name(a->description) + ": " + a->reason;
  }
  return "peer closed the TLS connection (close_notify)";
}

/// NEW, ACTIVE, RESUMED, EXPIRED, CLOSED: the session states as the traces spell them.
inline const char* session_state_name(l5::SessionState s) {
  switch (s) {
    case l5::SessionState::kNew: return "NEW";
    case l5::SessionState::kActive: return "ACTIVE";
    case l5::SessionState::kResumed: return "RESUMED";
    case l5::SessionState::kExpired: return "EXPIRED";
    case l5::SessionState::kClosed: return "CLOSED";
  }
  return "?";
}

}  // namespace mz::app
