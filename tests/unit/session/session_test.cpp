#include "megzawicol/l5/session.hpp"

#include <doctest/doctest.h>

#include "session_test_util.hpp"

using namespace mz;
using namespace mz::l5;
using mz::l5::test::describe_all;
using mz::l5::test::drain;
using mz::l5::test::text;

namespace {

Time at_s(int64_t s) { return Time{0} + Duration::seconds(s); }

// One transport connection between a client and a server end, in memory.
struct Link {
  SessionClient& c;
  SessionServerConn& s;

  // Client bytes to the server, then the server's reply back.
  void to_server(Time now, ByteView b) {
    s.feed(now, b);
    const Bytes reply = s.take_output();
    if (!reply.empty()) c.feed(now, reply);
  }
  void to_client(Time now, ByteView b) { c.feed(now, b); }
};

std::vector<std::string> table_events(SessionServer& srv) {
  std::vector<std::string> out;
  while (auto e = srv.poll_event()) out.push_back(describe(*e));
  return out;
}

Uuid open_session(SessionServer& srv, Rng& crng, Time now) {
  SessionClient c(crng);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(now, c.open(now));
  REQUIRE(c.is_open());
  return *c.session_id();
}

}  // namespace

TEST_CASE("session: open then data both ways then close then resume") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  Uuid id;
  {
    SessionClient c(crng);
    SessionServerConn s = srv.accept_connection();
    Link link{c, s};
    const Bytes hello = c.open(at_s(1));
    auto f = parse_session_frame(hello);
    REQUIRE(f.ok());
    CHECK(f->type == SessionType::kOpen);
    CHECK(f->id.is_v4());
    CHECK(f->timestamp_ns == 1000000000u);
    link.to_server(at_s(1), hello);
    id = f->id;  // a fresh proposal is kept
    CHECK(drain(c) == std::vector<SessionEvent>{Accepted{id, SessionState::kNew}});
    CHECK(drain(s) == std::vector<SessionEvent>{Accepted{id, SessionState::kNew}});
    CHECK(c.session_id() == id);
    CHECK(srv.table().state(id) == SessionState::kNew);

    link.to_server(at_s(2), c.send(at_s(2), text("ClientHello")));
    CHECK(drain(s) == std::vector<SessionEvent>{Data{text("ClientHello")}});
    CHECK(srv.table().state(id) == SessionState::kActive);
    link.to_client(at_s(3), s.send(at_s(3), text("ServerHello")));
    CHECK(drain(c) == std::vector<SessionEvent>{Data{text("ServerHello")}});

    link.to_server(at_s(4), c.close(at_s(4)));
    CHECK(c.is_closed());
    CHECK(drain(s) == std::vector<SessionEvent>{Closed{false}});
    CHECK(s.is_closed());
    CHECK(srv.table().state(id) == SessionState::kActive);  // suspended, still resumable
  }
  CHECK(table_events(srv) ==
        std::vector<std::string>{"StateChanged " + id.to_string() + " - -> NEW at 1.000000000",
                                 "StateChanged " + id.to_string() + " NEW -> ACTIVE at 2.000000000"});
  {
    SessionClient c(crng, id);
    SessionServerConn s = srv.accept_connection();
    Link link{c, s};
    const Bytes hello = c.open(at_s(10));
    CHECK(parse_session_frame(hello)->type == SessionType::kResume);
    link.to_server(at_s(10), hello);
    CHECK(drain(c) == std::vector<SessionEvent>{Accepted{id, SessionState::kResumed}});
    CHECK(drain(s) == std::vector<SessionEvent>{Accepted{id, SessionState::kResumed}});
    CHECK(srv.table().state(id) == SessionState::kResumed);
    link.to_server(at_s(11), c.send(at_s(11), text("again")));
    CHECK(drain(s) == std::vector<SessionEvent>{Data{text("again")}});
    CHECK(srv.table().state(id) == SessionState::kActive);
    // The server ends the session for good.
    link.to_client(at_s(12), s.close(at_s(12), CloseMode::kEnd));
    CHECK(drain(c) == std::vector<SessionEvent>{Closed{true}});
    CHECK(srv.table().state(id) == SessionState::kClosed);
  }
  CHECK(table_events(srv) ==
        std::vector<std::string>{"StateChanged " + id.to_string() + " ACTIVE -> RESUMED at 10.000000000",
                                 "StateChanged " + id.to_string() + " RESUMED -> ACTIVE at 11.000000000",
                                 "StateChanged " + id.to_string() + " ACTIVE -> CLOSED at 12.000000000"});
  // A closed session cannot come back.
  SessionClient c(crng, id);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(13), c.open(at_s(13)));
  const std::string reason = "session " + id.to_string() + " was closed";
  CHECK(drain(c) == std::vector<SessionEvent>{Refused{reason}});
  CHECK(drain(s) == std::vector<SessionEvent>{Refused{reason}});
  CHECK(c.is_closed());
  CHECK(s.is_closed());
}

TEST_CASE("session: idle timeout expires the session and RESUME is refused with the reason") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  const Uuid id = open_session(srv, crng, at_s(100));
  CHECK(srv.poll_timeout() == at_s(400));
  srv.handle_timeout(at_s(400) - Duration::nanos(1));
  CHECK(srv.table().state(id) == SessionState::kNew);
  srv.handle_timeout(at_s(450));
  CHECK(srv.table().state(id) == SessionState::kExpired);
  CHECK_FALSE(srv.poll_timeout());
  CHECK(table_events(srv).back() == "StateChanged " + id.to_string() + " NEW -> EXPIRED at 400.000000000");

  SessionClient c(crng, id);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(460), c.open(at_s(460)));
  const std::string reason = "session " + id.to_string() + " expired after 300 s idle";
  CHECK(drain(c) == std::vector<SessionEvent>{Refused{reason}});
  CHECK(c.is_closed());
  CHECK(s.is_closed());
  // The REFUSE frame names the session and carries the reason.
  SessionServerConn s2 = srv.accept_connection();
  Bytes resume;
  emit_session_frame(resume, SessionType::kResume, 0, id, at_s(470), {});
  s2.feed(at_s(470), resume);
  auto refuse = parse_session_frame(s2.take_output());
  REQUIRE(refuse.ok());
  CHECK(refuse->type == SessionType::kRefuse);
  CHECK(refuse->id == id);
  CHECK(refuse->refuse_reason() == reason);
}

TEST_CASE("session: expiry follows the now passed in even without handle_timeout") {
  Rng crng(1);
  SessionServer srv(Rng(2), SessionTableConfig{Duration::millis(1500)});
  const Uuid id = open_session(srv, crng, at_s(0));
  SessionClient c(crng, id);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(2), c.open(at_s(2)));
  CHECK(drain(c) ==
        std::vector<SessionEvent>{Refused{"session " + id.to_string() + " expired after 1.5s idle"}});
}

TEST_CASE("session: DATA either way refreshes the idle timer") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  SessionClient c(crng);
  SessionServerConn s = srv.accept_connection();
  Link link{c, s};
  link.to_server(at_s(0), c.open(at_s(0)));
  const Uuid id = *c.session_id();
  link.to_server(at_s(200), c.send(at_s(200), {}));  // an empty DATA: a keep-alive, no Data event
  CHECK(srv.poll_timeout() == at_s(500));
  link.to_client(at_s(450), s.send(at_s(450), text("push")));
  CHECK(srv.poll_timeout() == at_s(750));
  srv.handle_timeout(at_s(700));
  CHECK(srv.table().state(id) == SessionState::kActive);
  // Idle past the deadline: the next DATA from the client is refused and the connection ends.
  link.to_server(at_s(800), c.send(at_s(800), text("late")));
  const std::string reason = "session " + id.to_string() + " expired after 300 s idle";
  CHECK(describe_all(drain(s)) == std::vector<std::string>{"Accepted " + id.to_string() + " NEW", "Refused \"" + reason + "\""});
  CHECK(drain(c) == std::vector<SessionEvent>{Accepted{id, SessionState::kNew}, Data{text("push")}, Refused{reason}});
  CHECK(s.is_closed());
  CHECK(c.is_closed());
}

TEST_CASE("session: the server refuses to push DATA on a session that expired") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  SessionClient c(crng);
  SessionServerConn s = srv.accept_connection();
  Link link{c, s};
  link.to_server(at_s(0), c.open(at_s(0)));
  const Uuid id = *c.session_id();
  srv.handle_timeout(at_s(301));
  const Bytes out = s.send(at_s(302), text("too late"));
  auto f = parse_session_frame(out);
  REQUIRE(f.ok());
  CHECK(f->type == SessionType::kRefuse);
  CHECK(s.is_closed());
  link.to_client(at_s(302), out);
  CHECK(drain(c).back() == SessionEvent{Refused{"session " + id.to_string() + " expired after 300 s idle"}});
}

TEST_CASE("session: unknown id is refused") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  const Uuid unknown = *Uuid::parse("1b4e28ba-2fa1-41d2-883f-0016d3cca427");
  SessionClient c(crng, unknown);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(1), c.open(at_s(1)));
  const std::string reason = "unknown session id 1b4e28ba-2fa1-41d2-883f-0016d3cca427";
  CHECK(drain(c) == std::vector<SessionEvent>{Refused{reason}});
  CHECK(drain(s) == std::vector<SessionEvent>{Refused{reason}});
  CHECK(srv.table().size() == 0);
}

TEST_CASE("session: DATA before OPEN is a protocol error answered with REFUSE") {
  SessionTable table;
  Rng rng(4);
  SessionServerConn s(table, rng);
  Bytes data;
  const Uuid id = Uuid::v4(rng);
  emit_session_frame(data, SessionType::kData, 0, id, at_s(1), text("hello"));
  emit_session_frame(data, SessionType::kOpen, 0, id, at_s(1), {});  // ignored: the connection is over
  s.feed(at_s(1), data);
  CHECK(drain(s) == std::vector<SessionEvent>{ProtocolError{"DATA before OPEN or RESUME"}});
  auto f = parse_session_frame(s.take_output());
  REQUIRE(f.ok());
  CHECK(f->type == SessionType::kRefuse);
  CHECK(f->refuse_reason() == "DATA before OPEN or RESUME");
  CHECK(s.is_closed());
  CHECK(table.size() == 0);
  s.feed(at_s(2), data);
  CHECK_FALSE(s.poll_event());
  CHECK(s.take_output().empty());
}

TEST_CASE("session: bad framing from either side is a protocol error") {
  SessionTable table;
  Rng rng(4);
  SessionServerConn s(table, rng);
  s.feed(at_s(1), text("GET / HTTP/1.1\r\n"));
  CHECK(drain(s) == std::vector<SessionEvent>{ProtocolError{"bad session magic 0x4745, expected 0x4d5a (\"MZ\")"}});
  CHECK(parse_session_frame(s.take_output())->type == SessionType::kRefuse);

  SessionClient c(rng);
  (void)c.open(at_s(1));
  Bytes data;
  emit_session_frame(data, SessionType::kData, 0, Uuid::v4(rng), at_s(1), text("x"));
  c.feed(at_s(1), data);
  CHECK(drain(c) == std::vector<SessionEvent>{ProtocolError{"DATA before ACCEPT"}});
  CHECK(c.is_closed());
}

TEST_CASE("session: data for another session on an attached connection is refused") {
  Rng crng(1);
  SessionServer srv(Rng(2));
  SessionClient c(crng);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(0), c.open(at_s(0)));
  const Uuid other = Uuid::v4(crng);
  Bytes data;
  emit_session_frame(data, SessionType::kData, 0, other, at_s(1), text("x"));
  s.feed(at_s(1), data);
  const auto evs = drain(s);
  REQUIRE(evs.size() == 2);
  CHECK(describe(evs[1]) == "ProtocolError DATA for session " + other.to_string() +
                                " on a connection attached to " + c.session_id()->to_string());
}

TEST_CASE("session: the table bound evicts dead sessions first and refuses beyond it") {
  Rng crng(1);
  SessionServer srv(Rng(2), SessionTableConfig{Duration::seconds(10), 2});
  const Uuid a = open_session(srv, crng, at_s(0));
  const Uuid b = open_session(srv, crng, at_s(5));
  {
    SessionClient c(crng);
    SessionServerConn s = srv.accept_connection();
    Link{c, s}.to_server(at_s(6), c.open(at_s(6)));
    CHECK(drain(c) == std::vector<SessionEvent>{Refused{"session table full: 2 live sessions (limit 2)"}});
  }
  // At 12 s, a has idled out: the new session evicts it, b stays.
  const Uuid d = open_session(srv, crng, at_s(12));
  CHECK(srv.table().size() == 2);
  CHECK_FALSE(srv.table().find(a));
  CHECK(srv.table().state(b) == SessionState::kNew);
  CHECK(srv.table().state(d) == SessionState::kNew);
  // At 16 s b has expired; at 30 s d too. The next OPEN evicts b, which died first.
  srv.handle_timeout(at_s(30));
  const Uuid e = open_session(srv, crng, at_s(31));
  CHECK_FALSE(srv.table().find(b));
  CHECK(srv.table().state(d) == SessionState::kExpired);
  CHECK(srv.table().state(e) == SessionState::kNew);
  // The evicted id is now unknown.
  SessionClient c(crng, a);
  SessionServerConn s = srv.accept_connection();
  Link{c, s}.to_server(at_s(32), c.open(at_s(32)));
  CHECK(drain(c) == std::vector<SessionEvent>{Refused{"unknown session id " + a.to_string()}});
}

TEST_CASE("session: a proposal already in use gets a fresh id from the server") {
  SessionServer srv(Rng(2));
  Rng c1rng(9), c2rng(9);  // two clients seeded alike propose the same id
  const Uuid a = open_session(srv, c1rng, at_s(0));
  const Uuid b = open_session(srv, c2rng, at_s(1));
  CHECK(a != b);
  CHECK(b.is_v4());
  CHECK(srv.table().size() == 2);
  // A nil proposal means "assign one".
  SessionServerConn s = srv.accept_connection();
  Bytes open;
  emit_session_frame(open, SessionType::kOpen, 0, Uuid::nil(), at_s(2), {});
  s.feed(at_s(2), open);
  auto acc = parse_session_frame(s.take_output());
  REQUIRE(acc.ok());
  CHECK(acc->type == SessionType::kAccept);
  CHECK(acc->id.is_v4());
}

TEST_CASE("session: big payloads are split into frames at the limit and arrive whole") {
  Rng crng(1);
  SessionTable table;
  Rng srng(2);
  SessionClient c(crng, std::nullopt, 100);
  SessionServerConn s(table, srng, 100);
  Link link{c, s};
  link.to_server(at_s(0), c.open(at_s(0)));
  Bytes big(250);
  crng.fill(big.data(), big.size());
  const Bytes wire = c.send(at_s(1), big);
  CHECK(wire.size() == 250 + 3 * kSessionHeaderLen);
  // Delivered byte by byte, as TCP may.
  for (uint8_t b : wire) s.feed(at_s(1), ByteView(&b, 1));
  Bytes got;
  for (auto& e : drain(s))
    if (auto* d = std::get_if<Data>(&e)) got.insert(got.end(), d->bytes.begin(), d->bytes.end());
  CHECK(got == big);
}

TEST_CASE("session: the same seeds give the same bytes") {
  auto transcript = [] {
    Rng crng(11);
    SessionServer srv(Rng(12));
    SessionClient c(crng);
    SessionServerConn s = srv.accept_connection();
    Bytes all = c.open(at_s(1));
    s.feed(at_s(1), all);
    const Bytes acc = s.take_output();
    c.feed(at_s(1), acc);
    all.insert(all.end(), acc.begin(), acc.end());
    const Bytes d = c.send(at_s(2), text("x"));
    all.insert(all.end(), d.begin(), d.end());
    return all;
  };
  CHECK(transcript() == transcript());
}
