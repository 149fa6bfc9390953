// L5 session layer: sessions that outlive a transport connection, as sans-I/O endpoints.
//
// Theory of operation
// -------------------
// A session is a server-side record (SessionTable) named by a v4 UUID. A client opens it
// over one TCP connection and may resume it over later ones until it idles out:
//
//   client                     server conn                  table state
//   OPEN(proposal)     ->                                   (none) -> NEW
//                      <-      ACCEPT(id, NEW)
//   DATA               <->     DATA                         NEW/RESUMED -> ACTIVE
//   CLOSE              ->                                   unchanged (resumable)
//   ...new TCP connection...
//   RESUME(id)         ->                                   -> RESUMED
//                      <-      ACCEPT(id, RESUMED)
//   CLOSE(END)         ->                                   -> CLOSED
//   (idle >= timeout)                                       NEW/ACTIVE/RESUMED -> EXPIRED
//
// Rules:
//  1. The server decides the id: it keeps the client's OPEN proposal when it is a v4 UUID
//     not already in the table, and otherwise draws a fresh one from its own Rng (two
//     clients seeded alike propose the same ids). ACCEPT carries the id in force.
//  2. RESUME of an unknown, expired or closed id, an OPEN on a full table, and DATA for a
//     session that expired meanwhile are refused: a REFUSE frame with a readable reason,
//     then the connection is over. A frame that breaks the protocol (DATA before OPEN, bad
//     framing, ...) gives a ProtocolError event and a REFUSE with the same text.
//  3. Every frame for a live session (OPEN, RESUME, DATA either way, CLOSE) refreshes its
//     idle timer; idleness is measured on the `now` values passed in, never on a clock.
//     Every table operation first expires what is due at its `now`, so the result does not
//     depend on whether the driver called handle_timeout() first.
//  4. The table holds at most `max_sessions` records. OPEN on a full table evicts the
//     EXPIRED or CLOSED record that died first; if every record is live it is refused.
//     Dead records are kept until then so that RESUME can say "expired" rather than "unknown".
//  5. Terminal states are sticky: after Refused, Closed or ProtocolError an endpoint ignores
//     further input and is_closed() is true; the driver then closes the TCP connection.
//
// Call order (sans-I/O): after feed(), write take_output() (server) to the transport, then
// drain poll_event(). send()/close()/open() return the bytes to write directly. For the
// table: after any call, re-arm the timer from poll_timeout() and drain poll_event()
// (StateChanged, for tracing). Time is an argument everywhere; there is no I/O and no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/core/result.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/core/time.hpp"
#include "megzawicol/l5/session_wire.hpp"
#include "megzawicol/l5/uuid.hpp"

namespace mz::l5 {

// ---- Events ----------------------------------------------------------------------------

/// The session is attached to this connection (client: ACCEPT received; server: ACCEPT sent).
struct Accepted {
  Uuid id;
  SessionState state = SessionState::kNew;
  bool operator==(const Accepted&) const = default;
};
/// The session was refused (client: REFUSE received; server: REFUSE sent). Terminal.
struct Refused {
  std::string reason;
  bool operator==(const Refused&) const = default;
};
/// Upper-layer bytes from one non-empty DATA frame.
struct Data {
  Bytes bytes;
  bool operator==(const Data&) const = default;
};
/// The peer sent CLOSE. `session_ended`: it carried END (the session is CLOSED). Terminal.
struct Closed {
  bool session_ended = false;
  bool operator==(const Closed&) const = default;
};
/// The peer broke the protocol (framing, or a frame out of order). Terminal.
struct ProtocolError {
  std::string message;
  bool operator==(const ProtocolError&) const = default;
};
/// A table transition, for tracing. `from` is empty when the session is created.
struct StateChanged {
  Uuid id;
  std::optional<SessionState> from;
  SessionState to = SessionState::kNew;
  Time at;
  bool operator==(const StateChanged&) const = default;
};

using SessionEvent = std::variant<Accepted, Refused, Data, Closed, ProtocolError, StateChanged>;

/// "Accepted 1b4e...a427 NEW", "Data 517 bytes", "StateChanged 1b4e... NEW -> ACTIVE at 1.5", ...
std::string describe(const SessionEvent& e);

/// How a connection closes: kSuspend keeps the session resumable, kEnd makes it CLOSED.
enum class CloseMode : uint8_t { kSuspend, kEnd };

// ---- SessionTable ----------------------------------------------------------------------

struct SessionTableConfig {
  Duration idle_timeout = Duration::seconds(300);
  size_t max_sessions = 1024;        ///< records, live and dead
  size_t max_queued_events = 4096;   ///< StateChanged kept for poll_event(); the oldest are dropped
};

struct SessionRecord {
  Uuid id;
  SessionState state = SessionState::kNew;
  Time created;
  Time last_activity;
  Time state_since;
  uint64_t seq = 0;  ///< creation order, breaks ties between equal times
};

class SessionTable {
 public:
  explicit SessionTable(SessionTableConfig cfg = {}) : cfg_(cfg) {}

  /// Creates a NEW session (Rule 1 picks its id). Error (the refusal reason) if the table
  /// is full of live sessions.
  Result<Uuid> open(Time now, const Uuid& proposed, Rng& rng);
  /// NEW/ACTIVE/RESUMED -> RESUMED. Error (the reason) if unknown, expired or closed.
  Result<SessionState> resume(Time now, const Uuid& id);
  /// DATA in either direction: refreshes the timer; NEW/RESUMED -> ACTIVE.
  Result<SessionState> on_data(Time now, const Uuid& id);
  /// Any other activity (a suspending CLOSE): refreshes the timer only.
  Result<SessionState> refresh(Time now, const Uuid& id);
  /// CLOSE with END: a live session becomes CLOSED (nothing happens otherwise).
  void end(Time now, const Uuid& id);

  /// The earliest idle deadline over live sessions (nullopt if none).
  std::optional<Time> poll_timeout() const;
  /// Moves every live session idle for at least the timeout at `now` to EXPIRED.
  void handle_timeout(Time now);
  std::optional<StateChanged> poll_event();

  const SessionRecord* find(const Uuid& id) const;
  std::optional<SessionState> state(const Uuid& id) const;
  size_t size() const { return sessions_.size(); }
  size_t live_count() const { return deadlines_.size(); }
  uint64_t events_dropped() const { return events_dropped_; }
  const SessionTableConfig& config() const { return cfg_; }

 private:
  Result<SessionRecord*> live(Time now, const Uuid& id);
  void set_state(SessionRecord& r, SessionState to, Time now);
  void touch(SessionRecord& r, Time now);
  void push_event(StateChanged e);

  SessionTableConfig cfg_;
  std::map<Uuid, SessionRecord> sessions_;
  std::set<std::pair<Time, Uuid>> deadlines_;  // (last_activity + idle_timeout, id), live only
  std::deque<StateChanged> events_;
  uint64_t next_seq_ = 0;
  uint64_t events_dropped_ = 0;
};

// ---- Client ----------------------------------------------------------------------------

class SessionClient {
 public:
  /// `rng` draws the OPEN proposal; with `resume_id` the client sends RESUME instead.
  /// `rng` must outlive the client.
  explicit SessionClient(Rng& rng, std::optional<Uuid> resume_id = std::nullopt,
                         size_t max_payload = kDefaultMaxPayload);

  /// The OPEN or RESUME frame. Precondition: called once, first.
  Bytes open(Time now);
  void feed(Time now, ByteView data);
  std::optional<SessionEvent> poll_event();
  /// DATA frames carrying `payload` (split at max_payload; an empty payload gives one empty
  /// DATA, a keep-alive). Precondition: is_open() (after Accepted); empty result otherwise.
  Bytes send(Time now, ByteView payload);
  /// A CLOSE frame (END with CloseMode::kEnd) if open; empty otherwise. The client is closed after.
  Bytes close(Time now, CloseMode mode = CloseMode::kSuspend);

  /// The session in force once Accepted (before that: the id being resumed, if any).
  std::optional<Uuid> session_id() const { return id_; }
  bool is_open() const { return phase_ == Phase::kOpen; }
  bool is_closed() const { return phase_ == Phase::kClosed; }

 private:
  enum class Phase { kIdle, kOpening, kOpen, kClosed };
  void on_frame(SessionFrame& f);  // a DATA payload is moved into its event
  void fail(std::string message);

  Rng* rng_;
  std::optional<Uuid> resume_id_;
  std::optional<Uuid> id_;
  size_t max_payload_;
  Phase phase_ = Phase::kIdle;
  SessionDeframer deframer_;
  std::deque<SessionEvent> events_;
};

// ---- Server ----------------------------------------------------------------------------

/// The server end of one transport connection. It refers to a SessionTable and an Rng that
/// must outlive it (several connections share them).
class SessionServerConn {
 public:
  SessionServerConn(SessionTable& table, Rng& rng, size_t max_payload = kDefaultMaxPayload);

  void feed(Time now, ByteView data);
  std::optional<SessionEvent> poll_event();
  /// ACCEPT / REFUSE frames produced by feed().
  Bytes take_output();
  /// DATA frames (as SessionClient::send). If the session expired or ended meanwhile, the
  /// result is a REFUSE instead, a Refused event is queued and the connection is over.
  /// Precondition: attached (after Accepted); empty result otherwise.
  Bytes send(Time now, ByteView payload);
  /// A CLOSE frame if attached (kEnd also makes the session CLOSED); empty otherwise.
  Bytes close(Time now, CloseMode mode = CloseMode::kSuspend);

  std::optional<Uuid> session_id() const { return id_; }
  bool is_attached() const { return phase_ == Phase::kAttached; }
  bool is_closed() const { return phase_ == Phase::kClosed; }

 private:
  enum class Phase { kAwaitHello, kAttached, kClosed };
  void on_frame(Time now, SessionFrame& f);  // a DATA payload is moved into its event
  void refuse(Time now, const Uuid& id, const std::string& reason);
  void fail(Time now, const Uuid& id, const std::string& message);

  SessionTable* table_;
  Rng* rng_;
  size_t max_payload_;
  Phase phase_ = Phase::kAwaitHello;
  std::optional<Uuid> id_;
  SessionDeframer deframer_;
  Bytes out_;
  std::deque<SessionEvent> events_;
};

/// A session server: the table, the Rng for ids, and a factory for per-connection ends.
/// Not copyable or movable (connections refer to it); it must outlive its connections.
class SessionServer {
 public:
  explicit SessionServer(Rng rng, SessionTableConfig cfg = {}, size_t max_payload = kDefaultMaxPayload)
      : rng_(rng), table_(cfg), max_payload_(max_payload) {}
  SessionServer(const SessionServer&) = delete;
  SessionServer& operator=(const SessionServer&) = delete;

  /// The session end of a newly accepted transport connection.
  SessionServerConn accept_connection() { return SessionServerConn(table_, rng_, max_payload_); }

  SessionTable& table() { return table_; }
  const SessionTable& table() const { return table_; }
  std::optional<Time> poll_timeout() const { return table_.poll_timeout(); }
  void handle_timeout(Time now) { table_.handle_timeout(now); }
  std::optional<StateChanged> poll_event() { return table_.poll_event(); }

 private:
  Rng rng_;
  SessionTable table_;
  size_t max_payload_;
};

}  // namespace mz::l5
