#include "megzawicol/l5/session_wire.hpp"

#include <cassert>
#include <cstdio>
#include <limits>

namespace mz::l5 {

namespace {

uint64_t load_be64(const uint8_t* p) { return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4); }
void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

std::string hex8(uint8_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%02x", static_cast<unsigned>(v));
  return b;
}

bool known_type(uint8_t t) { return t >= 1 && t <= 6; }

// RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(ByteView s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the continuation bytes are missing
    for (size_t k = 1; k <= n; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

std::string to_string(SessionType t) {
  switch (t) {
    case SessionType::kOpen: return "OPEN";
    case SessionType::kResume: return "RESUME";
    case SessionType::kAccept: return "ACCEPT";
    case SessionType::kRefuse: return "REFUSE";
    case SessionType::kData: return "DATA";
    case SessionType::kClose: return "CLOSE";
  }
  return "type " + std::to_string(static_cast<unsigned>(t));
}

std::string to_string(SessionState s) {
  switch (s) {
    case SessionState::kNew: return "NEW";
    case SessionState::kActive: return "ACTIVE";
    case SessionState::kResumed: return "RESUMED";
    case SessionState::kExpired: return "EXPIRED";
    case SessionState::kClosed: return "CLOSED";
  }
  return "state " + std::to_string(static_cast<unsigned>(s));
}

std::optional<SessionState> SessionFrame::accept_state() const {
  if (type != SessionType::kAccept || payload.size() != 1) return std::nullopt;
  return static_cast<SessionState>(payload[0]);
}

std::string_view SessionFrame::refuse_reason() const {
  if (type != SessionType::kRefuse) return {};
  return {reinterpret_cast<const char*>(payload.data()), payload.size()};
}

std::string SessionFrame::describe() const {
  std::string s = "SESSION " + to_string(type) + " " + id.to_string() + " ts ";
  if (timestamp_ns <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    s += format_time(Time{static_cast<int64_t>(timestamp_ns)});
  else
    s += std::to_string(timestamp_ns) + "ns";
  s += " len " + std::to_string(payload.size());
  if (auto st = accept_state()) s += " state " + to_string(*st);
  if (type == SessionType::kRefuse) s += " reason \"" + std::string(refuse_reason()) + "\"";
  if (flags & kFlagEnd) s += " END";
  return s;
}

std::optional<Error> check_session_header_prefix(ByteView p, size_t max_payload) {
  if (p.size() >= 2 && (p[0] != kSessionMagic0 || p[1] != kSessionMagic1))
    return make_error("bad session magic " + hex8(p[0]) + hex8(p[1]).substr(2) + ", expected 0x4d5a (\"MZ\")");
  if (p.size() >= 3 && p[2] != kSessionVersion)
    return make_error("unsupported session version " + std::to_string(p[2]) + ", expected 1");
  if (p.size() >= 4 && !known_type(p[3]))
    return make_error("unknown session frame type " + std::to_string(p[3]));
  if (p.size() >= 5) {
    const auto type = static_cast<SessionType>(p[3]);
    const uint8_t flags = p[4];
    if (flags & ~kFlagEnd) return make_error("reserved session flags set: " + hex8(flags));
    if ((flags & kFlagEnd) && type != SessionType::kClose)
      return make_error("flag END on a " + to_string(type) + " frame (CLOSE only)");
  }
  if (p.size() >= 9) {
    const auto type = static_cast<SessionType>(p[3]);
    const uint32_t len = load_be32(p.data() + 5);
    if (len > max_payload)
      return make_error("payload length " + std::to_string(len) + " exceeds limit " + std::to_string(max_payload));
    switch (type) {
      case SessionType::kOpen:
      case SessionType::kResume:
      case SessionType::kClose:
        if (len != 0)
          return make_error(to_string(type) + " frame with a " + std::to_string(len) + "-byte payload, expected none");
        break;
      case SessionType::kAccept:
        if (len != 1) return make_error("ACCEPT payload of " + std::to_string(len) + " bytes, expected 1 (the state)");
        break;
      case SessionType::kRefuse:
      case SessionType::kData:
        break;
    }
  }
  return std::nullopt;
}

Result<SessionFrame> parse_session_frame(ByteView d, size_t max_payload) {
  if (auto e = check_session_header_prefix(d, max_payload)) return *e;
  if (d.size() < kSessionHeaderLen)
    return make_error("truncated session header: " + std::to_string(d.size()) + " bytes, header is 33");
  const uint8_t* p = d.data();
  const uint32_t len = load_be32(p + 5);
  const size_t have = d.size() - kSessionHeaderLen;
  if (have < len)
    return make_error("truncated session frame: payload length " + std::to_string(len) + ", " + std::to_string(have) +
                      " bytes follow the header");
  if (have > len) return make_error(std::to_string(have - len) + " trailing bytes after the session frame");
  SessionFrame f;
  f.type = static_cast<SessionType>(p[3]);
  f.flags = p[4];
  std::copy(p + 9, p + 25, f.id.b.begin());
  f.timestamp_ns = load_be64(p + 25);
  f.payload.assign(p + kSessionHeaderLen, p + kSessionHeaderLen + len);
  if (f.type == SessionType::kAccept) {
    const uint8_t st = f.payload[0];
    if (st < static_cast<uint8_t>(SessionState::kNew) || st > static_cast<uint8_t>(SessionState::kResumed))
      return make_error("bad ACCEPT state " + std::to_string(st) + ", expected 1 NEW, 2 ACTIVE or 3 RESUMED");
  }
  if (f.type == SessionType::kRefuse && !valid_utf8(f.payload)) return make_error("REFUSE reason is not valid UTF-8");
  return f;
}

namespace {

void emit_frame(Bytes& out, SessionType type, uint8_t flags, const Uuid& id, uint64_t timestamp_ns, ByteView payload) {
  assert(payload.size() <= std::numeric_limits<uint32_t>::max());
  const size_t at = out.size();
  out.resize(at + kSessionHeaderLen);
  uint8_t* p = out.data() + at;
  p[0] = kSessionMagic0;
  p[1] = kSessionMagic1;
  p[2] = kSessionVersion;
  p[3] = static_cast<uint8_t>(type);
  p[4] = flags;
  store_be32(p + 5, static_cast<uint32_t>(payload.size()));
  std::copy(id.b.begin(), id.b.end(), p + 9);
  store_be64(p + 25, timestamp_ns);
  out.insert(out.end(), payload.begin(), payload.end());
}

}  // namespace

void emit_session_frame(Bytes& out, SessionType type, uint8_t flags, const Uuid& id, Time timestamp,
                        ByteView payload) {
  assert(timestamp.ns >= 0);
  emit_frame(out, type, flags, id, static_cast<uint64_t>(timestamp.ns), payload);
}

void emit_session_frame(Bytes& out, const SessionFrame& f) {
  emit_frame(out, f.type, f.flags, f.id, f.timestamp_ns, f.payload);
}

void SessionDeframer::feed(ByteView data) {
  if (error_ || data.empty()) return;
  // Compact lazily: drop the consumed prefix once it is at least half the buffer, so each
  // byte is moved O(1) times on average.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

std::optional<Result<SessionFrame>> SessionDeframer::next() {
  if (error_) return Result<SessionFrame>(*error_);
  const ByteView rest = ByteView(buf_).subspan(pos_);
  if (auto e = check_session_header_prefix(rest.first(std::min(rest.size(), kSessionHeaderLen)), max_payload_)) {
    error_ = *e;
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
    return Result<SessionFrame>(*error_);
  }
  if (rest.size() < kSessionHeaderLen) return std::nullopt;
  const size_t n = kSessionHeaderLen + load_be32(rest.data() + 5);
  if (rest.size() < n) return std::nullopt;
  Result<SessionFrame> r = parse_session_frame(rest.first(n), max_payload_);
  if (!r.ok()) {
    error_ = r.error();
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
    return r;
  }
  pos_ += n;
  if (pos_ == buf_.size()) buf_.clear(), pos_ = 0;
  return r;
}

}  // namespace mz::l5
