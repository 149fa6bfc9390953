#include "megzawicol/l5/session.hpp"

#include <cassert>
#include <iterator>

namespace mz::l5 {

namespace {

bool is_live(SessionState s) {
  return s == SessionState::kNew || s == SessionState::kActive || s == SessionState::kResumed;
}

// "300 s" for whole seconds (the usual configuration), "1.5ms" style otherwise.
std::string idle_text(Duration d) {
  if (d.ns % 1000000000 == 0) return std::to_string(d.ns / 1000000000) + " s";
  return format_duration(d);
}

}  // namespace

std::string describe(const SessionEvent& e) {
  struct V {
    std::string operator()(const Accepted& a) const { return "Accepted " + a.id.to_string() + " " + to_string(a.state); }
    std::string operator()(const Refused& r) const { return "Refused \"" + r.reason + "\""; }
    std::string operator()(const Data& d) const { return "Data " + std::to_string(d.bytes.size()) + " bytes"; }
    std::string operator()(const Closed& c) const {
      return c.session_ended ? "Closed (session ended)" : "Closed (session kept)";
    }
    std::string operator()(const ProtocolError& p) const { return "ProtocolError " + p.message; }
    std::string operator()(const StateChanged& s) const {
      return "StateChanged " + s.id.to_string() + " " + (s.from ? to_string(*s.from) : std::string("-")) + " -> " +
             to_string(s.to) + " at " + format_time(s.at);
    }
  };
  return std::visit(V{}, e);
}

Result<Uuid> SessionTable::open(Time now, const Uuid& proposed, Rng& rng) {
  handle_timeout(now);
  if (sessions_.size() >= cfg_.max_sessions) {
    // Evict the dead record that died first (ties: the older session).
    auto victim = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (is_live(it->second.state)) continue;
      if (victim == sessions_.end() ||
          std::pair(it->second.state_since, it->second.seq) < std::pair(victim->second.state_since, victim->second.seq))
        victim = it;
    }
    if (victim == sessions_.end())
      return make_error("session table full: " + std::to_string(deadlines_.size()) + " live sessions (limit " +
                        std::to_string(cfg_.max_sessions) + ")");
    sessions_.erase(victim);
  }
  Uuid id = proposed;
  while (!id.is_v4() || sessions_.contains(id)) id = Uuid::v4(rng);
  SessionRecord& r = sessions_[id];
  r.id = id;
  r.created = now;
  r.seq = next_seq_++;
  r.state = SessionState::kNew;
  r.state_since = now;
  r.last_activity = now;
  deadlines_.emplace(now + cfg_.idle_timeout, id);
  push_event(StateChanged{id, std::nullopt, SessionState::kNew, now});
  return id;
}

Result<SessionRecord*> SessionTable::live(Time now, const Uuid& id) {
  handle_timeout(now);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return make_error("unknown session id " + id.to_string());
  SessionRecord& r = it->second;
  if (r.state == SessionState::kExpired)
    return make_error("session " + id.to_string() + " expired after " + idle_text(cfg_.idle_timeout) + " idle");
  if (r.state == SessionState::kClosed) return make_error("session " + id.to_string() + " was closed");
  return &r;
}

Result<SessionState> SessionTable::resume(Time now, const Uuid& id) {
  auto r = live(now, id);
  if (!r) return r.error();
  touch(**r, now);
  set_state(**r, SessionState::kResumed, now);
  return (*r)->state;
}

Result<SessionState> SessionTable::on_data(Time now, const Uuid& id) {
  auto r = live(now, id);
  if (!r) return r.error();
  touch(**r, now);
  set_state(**r, SessionState::kActive, now);
  return (*r)->state;
}

Result<SessionState> SessionTable::refresh(Time now, const Uuid& id) {
  auto r = live(now, id);
  if (!r) return r.error();
  touch(**r, now);
  return (*r)->state;
}

void SessionTable::end(Time now, const Uuid& id) {
  auto r = live(now, id);
  if (!r) return;
  deadlines_.erase({(*r)->last_activity + cfg_.idle_timeout, id});
  set_state(**r, SessionState::kClosed, now);
}

std::optional<Time> SessionTable::poll_timeout() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void SessionTable::handle_timeout(Time now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const auto [deadline, id] = *deadlines_.begin();
    deadlines_.erase(deadlines_.begin());
    SessionRecord& r = sessions_.at(id);
    // The transition is stamped with the deadline, the moment the session became idle for
    // the full timeout, not with the (possibly later) time the driver noticed.
    set_state(r, SessionState::kExpired, deadline);
  }
}

std::optional<StateChanged> SessionTable::poll_event() {
  if (events_.empty()) return std::nullopt;
  const StateChanged e = events_.front();
  events_.pop_front();
  return e;
}

const SessionRecord* SessionTable::find(const Uuid& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::optional<SessionState> SessionTable::state(const Uuid& id) const {
  const SessionRecord* r = find(id);
  if (!r) return std::nullopt;
  return r->state;
}

void SessionTable::set_state(SessionRecord& r, SessionState to, Time now) {
  if (r.state == to) return;
  const SessionState from = r.state;
  r.state = to;
  r.state_since = now;
  push_event(StateChanged{r.id, from, to, now});
}

void SessionTable::touch(SessionRecord& r, Time now) {
  assert(is_live(r.state));
  if (now <= r.last_activity) return;  // time never runs backwards for the timer
  deadlines_.erase({r.last_activity + cfg_.idle_timeout, r.id});
  r.last_activity = now;
  deadlines_.emplace(now + cfg_.idle_timeout, r.id);
}

void SessionTable::push_event(StateChanged e) {
  if (cfg_.max_queued_events == 0) {
    ++events_dropped_;
    return;
  }
  if (events_.size() >= cfg_.max_queued_events) {
    events_.pop_front();
    ++events_dropped_;
  }
  events_.push_back(e);
}

}  // namespace mz::l5
