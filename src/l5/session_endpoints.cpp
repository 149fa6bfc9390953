// SessionClient and SessionServerConn: the two ends of one transport connection.
#include <cassert>
#include <utility>

#include "megzawicol/l5/session.hpp"

namespace mz::l5 {

namespace {

// DATA frames for `payload`, each at most `max_payload` bytes; one empty frame if empty.
Bytes data_frames(Time now, const Uuid& id, ByteView payload, size_t max_payload) {
  Bytes out;
  const size_t frames = payload.empty() ? 1 : (payload.size() + max_payload - 1) / max_payload;
  out.reserve(frames * kSessionHeaderLen + payload.size());
  size_t off = 0;
  do {
    const size_t n = std::min(max_payload, payload.size() - off);
    emit_session_frame(out, SessionType::kData, 0, id, now, payload.subspan(off, n));
    off += n;
  } while (off < payload.size());
  return out;
}

Bytes close_frame(Time now, const Uuid& id, CloseMode mode) {
  Bytes out;
  emit_session_frame(out, SessionType::kClose, mode == CloseMode::kEnd ? kFlagEnd : 0, id, now, {});
  return out;
}

template <class Q>
std::optional<SessionEvent> pop(Q& q) {
  if (q.empty()) return std::nullopt;
  SessionEvent e = std::move(q.front());
  q.pop_front();
  return e;
}

}  // namespace

// ---- SessionClient ---------------------------------------------------------------------

SessionClient::SessionClient(Rng& rng, std::optional<Uuid> resume_id, size_t max_payload)
    : rng_(&rng), resume_id_(resume_id), id_(resume_id), max_payload_(max_payload), deframer_(max_payload) {
  assert(max_payload > 0);
}

Bytes SessionClient::open(Time now) {
  assert(phase_ == Phase::kIdle);
  if (phase_ != Phase::kIdle) return {};
  phase_ = Phase::kOpening;
  Bytes out;
  if (resume_id_)
    emit_session_frame(out, SessionType::kResume, 0, *resume_id_, now, {});
  else
    emit_session_frame(out, SessionType::kOpen, 0, Uuid::v4(*rng_), now, {});
  return out;
}

void SessionClient::feed(Time /*now*/, ByteView data) {
  if (phase_ == Phase::kClosed) return;
  deframer_.feed(data);
  while (phase_ != Phase::kClosed) {
    auto r = deframer_.next();
    if (!r) break;
    if (!r->ok()) {
      fail(r->error().message);
      break;
    }
    on_frame(r->value());
  }
}

void SessionClient::on_frame(SessionFrame& f) {
  if (phase_ == Phase::kIdle) return fail(to_string(f.type) + " before OPEN or RESUME was sent");
  if (f.type == SessionType::kRefuse) {
    events_.push_back(Refused{std::string(f.refuse_reason())});
    phase_ = Phase::kClosed;
    return;
  }
  if (phase_ == Phase::kOpening) {
    if (f.type != SessionType::kAccept) return fail(to_string(f.type) + " before ACCEPT");
    const SessionState st = *f.accept_state();
    if (resume_id_) {
      if (f.id != *resume_id_)
        return fail("ACCEPT for session " + f.id.to_string() + ", resuming " + resume_id_->to_string());
      if (st != SessionState::kResumed) return fail("ACCEPT state " + to_string(st) + " for a RESUME, expected RESUMED");
    } else {
      if (!f.id.is_v4()) return fail("ACCEPT with session id " + f.id.to_string() + ", not a v4 UUID");
      if (st != SessionState::kNew) return fail("ACCEPT state " + to_string(st) + " for an OPEN, expected NEW");
    }
    id_ = f.id;
    phase_ = Phase::kOpen;
    events_.push_back(Accepted{f.id, st});
    return;
  }
  // kOpen
  if (f.id != *id_) return fail(to_string(f.type) + " for session " + f.id.to_string() + ", open is " + id_->to_string());
  switch (f.type) {
    case SessionType::kData:
      if (!f.payload.empty()) events_.push_back(Data{std::move(f.payload)});
      return;
    case SessionType::kClose:
      events_.push_back(Closed{(f.flags & kFlagEnd) != 0});
      phase_ = Phase::kClosed;
      return;
    default:
      return fail("unexpected " + to_string(f.type) + " on an open session");
  }
}

void SessionClient::fail(std::string message) {
  events_.push_back(ProtocolError{std::move(message)});
  phase_ = Phase::kClosed;
}

std::optional<SessionEvent> SessionClient::poll_event() { return pop(events_); }

Bytes SessionClient::send(Time now, ByteView payload) {
  assert(phase_ == Phase::kOpen);
  if (phase_ != Phase::kOpen) return {};
  return data_frames(now, *id_, payload, max_payload_);
}

Bytes SessionClient::close(Time now, CloseMode mode) {
  const bool was_open = phase_ == Phase::kOpen;
  phase_ = Phase::kClosed;
  if (!was_open) return {};
  return close_frame(now, *id_, mode);
}

// ---- SessionServerConn -----------------------------------------------------------------

SessionServerConn::SessionServerConn(SessionTable& table, Rng& rng, size_t max_payload)
    : table_(&table), rng_(&rng), max_payload_(max_payload), deframer_(max_payload) {
  assert(max_payload > 0);
}

void SessionServerConn::feed(Time now, ByteView data) {
  if (phase_ == Phase::kClosed) return;
  deframer_.feed(data);
  while (phase_ != Phase::kClosed) {
    auto r = deframer_.next();
    if (!r) break;
    if (!r->ok()) {
      fail(now, id_.value_or(Uuid::nil()), r->error().message);
      break;
    }
    on_frame(now, r->value());
  }
}

void SessionServerConn::on_frame(Time now, SessionFrame& f) {
  if (phase_ == Phase::kAwaitHello) {
    switch (f.type) {
      case SessionType::kOpen: {
        auto id = table_->open(now, f.id, *rng_);
        if (!id) return refuse(now, f.id, id.error().message);
        id_ = *id;
        break;
      }
      case SessionType::kResume: {
        auto st = table_->resume(now, f.id);
        if (!st) return refuse(now, f.id, st.error().message);
        id_ = f.id;
        break;
      }
      default:
        return fail(now, f.id, to_string(f.type) + " before OPEN or RESUME");
    }
    const SessionState st = f.type == SessionType::kOpen ? SessionState::kNew : SessionState::kResumed;
    const uint8_t st_byte = static_cast<uint8_t>(st);
    emit_session_frame(out_, SessionType::kAccept, 0, *id_, now, ByteView(&st_byte, 1));
    phase_ = Phase::kAttached;
    events_.push_back(Accepted{*id_, st});
    return;
  }
  // kAttached
  if (f.id != *id_)
    return fail(now, *id_,
                to_string(f.type) + " for session " + f.id.to_string() + " on a connection attached to " + id_->to_string());
  switch (f.type) {
    case SessionType::kData: {
      auto st = table_->on_data(now, *id_);
      if (!st) return refuse(now, *id_, st.error().message);
      if (!f.payload.empty()) events_.push_back(Data{std::move(f.payload)});
      return;
    }
    case SessionType::kClose: {
      const bool ended = (f.flags & kFlagEnd) != 0;
      if (ended)
        table_->end(now, *id_);
      else
        (void)table_->refresh(now, *id_);  // a session that died meanwhile just stays dead
      events_.push_back(Closed{ended});
      phase_ = Phase::kClosed;
      return;
    }
    default:
      return fail(now, *id_, "unexpected " + to_string(f.type) + " on an attached session");
  }
}

void SessionServerConn::refuse(Time now, const Uuid& id, const std::string& reason) {
  emit_session_frame(out_, SessionType::kRefuse, 0, id, now,
                     ByteView(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
  events_.push_back(Refused{reason});
  phase_ = Phase::kClosed;
}

void SessionServerConn::fail(Time now, const Uuid& id, const std::string& message) {
  emit_session_frame(out_, SessionType::kRefuse, 0, id, now,
                     ByteView(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
  events_.push_back(ProtocolError{message});
  phase_ = Phase::kClosed;
}

std::optional<SessionEvent> SessionServerConn::poll_event() { return pop(events_); }

Bytes SessionServerConn::take_output() { return std::exchange(out_, Bytes{}); }

Bytes SessionServerConn::send(Time now, ByteView payload) {
  assert(phase_ == Phase::kAttached);
  if (phase_ != Phase::kAttached) return {};
  auto st = table_->on_data(now, *id_);
  if (!st) {
    refuse(now, *id_, st.error().message);
    return take_output();
  }
  return data_frames(now, *id_, payload, max_payload_);
}

Bytes SessionServerConn::close(Time now, CloseMode mode) {
  const bool attached = phase_ == Phase::kAttached;
  phase_ = Phase::kClosed;
  if (!attached) return {};
  if (mode == CloseMode::kEnd)
    table_->end(now, *id_);
  else
    (void)table_->refresh(now, *id_);
  return close_frame(now, *id_, mode);
}

}  // namespace mz::l5
