// Socket-mode soak: one `megzawicol server` process on loopback for MZ_SOAK_SECONDS
// (default 60) serving honest clients (a few at a time, each checking its echo) interleaved
// with hostile peers: garbage bytes, truncated frames, a slow drip, clients killed
// mid-handshake, tampered TLS records, valid line code carrying junk frames, and
// connection floods beyond --max-clients. Checks: every honest client gets its echo; the
// server stays alive and exits 0 on SIGTERM; its VmRSS after warm-up stays within a bound;
// its file descriptors come back to the count it started with.
//
// Every child process is owned by a Child guard (kill + reap on every path), every loop is
// bounded in count and time, and the test stops by itself. The helpers are those of
// tests/io/socket_mode_test.cpp.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "../support/process.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using mz::testsupport::Child;
using mz::testsupport::line_coded;
using mz::testsupport::RawConn;
using mz::testsupport::slurp;

std::string fresh_dir(const std::string& name) { return mz::testsupport::fresh_dir("soak", name); }

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

// /proc/PID/status VmRSS in KiB (0 if unreadable).
long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

// Open file descriptors of PID (-1 if unreadable).
long fd_count(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

double soak_seconds() {
  const char* e = std::getenv("MZ_SOAK_SECONDS");
  if (!e || !*e) return 60.0;
  const double v = std::strtod(e, nullptr);
  return std::clamp(v, 5.0, 3600.0);
}

// Shared state of the workers. Failures are collected as strings (doctest assertions are
// for the main thread only) and checked at the end.
struct Soak {
  uint16_t port = 0;
  std::string dir;
  Clock::time_point deadline;
  std::mutex mu;
  std::condition_variable cv;
  bool flood_pending = false;  // workers park between items while a flood runs
  int busy = 0;                // workers inside an item
  std::vector<std::string> failures;
  std::atomic<uint64_t> honest_ok{0}, honest_total{0}, hostile{0}, refused_in_floods{0}, seq{0};
  std::atomic<uint64_t> by_kind[8]{};

  void fail(const std::string& why) {
    const std::lock_guard<std::mutex> lock(mu);
    if (failures.size() < 50) failures.push_back(why);
  }
  // Enter / leave one item of work; entering waits while a flood is pending. False once the
  // soak is over.
  bool enter() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_until(lock, deadline, [&] { return !flood_pending; });
    if (flood_pending || Clock::now() >= deadline) return false;
    ++busy;
    return true;
  }
  void leave() {
    const std::lock_guard<std::mutex> lock(mu);
    --busy;
    cv.notify_all();
  }
  std::string next_name(const std::string& kind) { return kind + "-" + std::to_string(++seq); }
};

std::string random_message(mz::Rng& rng) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_!?";
  std::string m(static_cast<size_t>(1 + rng.uniform_int(0, 1999)), ' ');
  for (char& c : m) c = kChars[rng.uniform_int(0, sizeof kChars - 2)];
  return m;
}

void honest_once(Soak& s, mz::Rng& rng) {
  const std::string msg = random_message(rng);
  const std::string name = s.next_name("honest");
  Child c({"client", "--connect", "127.0.0.1:" + std::to_string(s.port), "--message", msg, "--quiet", "--timeout",
           "20s"},
          s.dir + "/" + name + ".log");
  ++s.honest_total;
  const auto st = c.wait(30s);
  const std::string out = c.output();
  const std::string shown = msg.size() <= 200 ? msg : msg.substr(0, 200) + "...";
  if (st == std::optional<int>(0) && out.find("[Client] Server echoed: \"" + shown + "\"") != std::string::npos &&
      out.find("[Client] Echo verified: " + std::to_string(msg.size()) + " bytes x 1 identical") != std::string::npos) {
    ++s.honest_ok;
    std::filesystem::remove(s.dir + "/" + name + ".log");  // keep only the logs of failures
  } else {
    s.fail(name + ": status " + (st ? std::to_string(*st) : std::string("(still running after 30 s)")) + ": " +
           out.substr(0, 1000));
  }
}

enum Kind { kGarbage, kTruncated, kDrip, kMidHandshake, kTamper, kJunkFrames, kNumKinds };
const char* const kKindNames[] = {"garbage bytes", "truncated frame", "slow drip", "killed mid-handshake",
                                  "tampered TLS record", "junk frames"};

void hostile_once(Soak& s, mz::Rng& rng, Kind kind) {
  ++s.hostile;
  ++s.by_kind[kind];
  switch (kind) {
    case kGarbage: {  // more than --max-garbage-bytes of noise: closed by the server
      RawConn c(s.port);
      if (!c.ok()) return s.fail("garbage: connect failed");
      std::vector<uint8_t> junk(static_cast<size_t>(70 * 1024 + rng.uniform_int(0, 64 * 1024)));
      rng.fill(junk.data(), junk.size());
      c.send_all(junk);
      if (!c.closed_within(5s)) s.fail("garbage: the server kept the connection open");
      return;
    }
    case kTruncated: {  // part of a frame, then silence until the idle timeout
      RawConn c(s.port);
      if (!c.ok()) return s.fail("truncated: connect failed");
      std::vector<uint8_t> f(static_cast<size_t>(60 + rng.uniform_int(0, 1400)));
      rng.fill(f.data(), f.size());
      auto line = line_coded(f);
      line.resize(static_cast<size_t>(rng.uniform_int(1, line.size() - 1)));
      c.send_all(line);
      if (!c.closed_within(6s)) s.fail("truncated: not closed after the idle timeout");
      return;
    }
    case kDrip: {  // one byte of a frame every 200 ms for a few seconds, then gone
      RawConn c(s.port);
      if (!c.ok()) return s.fail("drip: connect failed");
      std::vector<uint8_t> f(1000);
      rng.fill(f.data(), f.size());
      const auto line = line_coded(f);
      const auto stop = std::min(Clock::now() + std::chrono::milliseconds(2000 + static_cast<int64_t>(rng.uniform_int(0, 3000))), s.deadline);
      for (size_t i = 0; i < line.size() && Clock::now() < stop; ++i) {
        if (!c.send_all({line[i]})) return s.fail("drip: the server closed a slow but live peer");
        std::this_thread::sleep_for(200ms);
      }
      return;  // the destructor closes it mid-frame
    }
    case kMidHandshake: {  // a real client killed at a random point of its handshake
      const std::string log = s.dir + "/" + s.next_name("killed") + ".log";
      {
        Child c({"client", "--connect", "127.0.0.1:" + std::to_string(s.port), "--quiet"}, log);
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(rng.uniform_int(0, 40))));
        c.signal(SIGKILL);
        c.wait(5s);
      }
      std::filesystem::remove(log);
      return;
    }
    case kTamper: {  // a TLS record with a flipped bit after the handshake
      const std::string name = s.next_name("tamper");
      Child c({"client", "--connect", "127.0.0.1:" + std::to_string(s.port), "--tamper", "--quiet", "--timeout", "20s"},
              s.dir + "/" + name + ".log");
      const auto st = c.wait(30s);
      const std::string out = c.output();
      if (!st || *st == 0 || out.find("bad_record_mac") == std::string::npos)
        s.fail(name + ": expected a bad_record_mac failure: " + out.substr(0, 1000));
      return;
    }
    case kJunkFrames: {  // valid line code, random frames (bad Ethernet/IP/TCP) inside
      RawConn c(s.port);
      if (!c.ok()) return s.fail("junk frames: connect failed");
      for (int i = 0; i < 50; ++i) {
        std::vector<uint8_t> f(static_cast<size_t>(14 + rng.uniform_int(0, 1500)));
        rng.fill(f.data(), f.size());
        if (!c.send_all(line_coded(f))) break;
      }
      return;
    }
    default:
      return;
  }
}

// All connections the server accepted are closed (and a moment for their slots to be freed).
bool server_quiescent(const Child& server, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    const std::string log = server.output();
    if (count_of(log, "] Accepted connection #") == count_of(log, "] Connection server-")) {
      std::this_thread::sleep_for(100ms);
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("socket soak: honest and hostile clients against one server for MZ_SOAK_SECONDS") {
  const double seconds = soak_seconds();
  constexpr int kMaxClients = 16;
  constexpr int kHonestWorkers = 4;
  constexpr int kHostileWorkers = 2;
  Soak s;
  s.dir = fresh_dir("soak");
  Child server({"server", "--listen", "127.0.0.1:0", "--quiet", "--idle-timeout", "2s", "--max-clients",
                std::to_string(kMaxClients)},
               s.dir + "/server.log");
  REQUIRE(server.started());
  REQUIRE_MESSAGE(server.wait_output("[Server] Listening on 127.0.0.1:", 10s), server.output());
  {
    const std::string out = server.output();
    const std::string tag = "Listening on 127.0.0.1:";
    s.port = static_cast<uint16_t>(std::stoi(out.substr(out.find(tag) + tag.size())));
  }
  REQUIRE(s.port != 0);
  const pid_t spid = server.pid();
  const long fds_start = fd_count(spid);
  const long rss_start = rss_kib(spid);
  REQUIRE(fds_start > 0);

  const auto t0 = Clock::now();
  s.deadline = t0 + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));

  std::vector<std::thread> workers;
  for (int w = 0; w < kHonestWorkers; ++w)
    workers.emplace_back([&s, w] {
      mz::Rng rng(1000 + static_cast<uint64_t>(w));
      for (int i = 0; i < 100000 && s.enter(); ++i) {
        honest_once(s, rng);
        s.leave();
      }
    });
  for (int w = 0; w < kHostileWorkers; ++w)
    workers.emplace_back([&s, w] {
      mz::Rng rng(2000 + static_cast<uint64_t>(w));
      for (int i = 0; i < 100000 && s.enter(); ++i) {
        hostile_once(s, rng, static_cast<Kind>(rng.uniform_int(0, uint64_t{kNumKinds} - 1)));
        s.leave();
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(rng.uniform_int(0, 100))));
      }
    });

  // The main thread samples RSS once a second and runs a connection flood every ~12 s, with
  // the other workers parked (the flood fills every slot: an honest client arriving then
  // would be refused by design).
  std::vector<std::pair<double, long>> rss;  // (seconds since start, KiB)
  long rss_warm = 0;
  int floods = 0;
  auto next_flood = t0 + 6s;
  while (Clock::now() < s.deadline) {
    std::this_thread::sleep_for(1s);
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    rss.emplace_back(t, rss_kib(spid));
    if (!rss_warm && t >= 10.0) rss_warm = rss.back().second;
    if (Clock::now() >= next_flood && Clock::now() + 10s < s.deadline && floods < 100) {
      next_flood = Clock::now() + 12s;
      ++floods;
      {
        std::unique_lock<std::mutex> lock(s.mu);
        s.flood_pending = true;
        s.cv.wait_for(lock, 40s, [&] { return s.busy == 0; });
      }
      if (!server_quiescent(server, 10s)) s.fail("flood: connections still open before the flood");
      const std::string before = server.output();
      const size_t refused_before = count_of(before, "[Server] Refusing connection");
      const size_t accepted_before = count_of(before, "] Accepted connection #");
      {
        std::vector<std::unique_ptr<RawConn>> held, extra;
        for (int i = 0; i < kMaxClients; ++i) held.push_back(std::make_unique<RawConn>(s.port));
        const auto end = Clock::now() + 5s;
        while (Clock::now() < end &&
               count_of(server.output(), "] Accepted connection #") < accepted_before + kMaxClients)
          std::this_thread::sleep_for(10ms);
        for (int i = 0; i < 2 * kMaxClients; ++i) extra.push_back(std::make_unique<RawConn>(s.port));
        int closed = 0;
        for (auto& c : extra) closed += c->ok() && c->closed_within(5s);
        if (closed != 2 * kMaxClients)
          s.fail("flood: " + std::to_string(closed) + " of " + std::to_string(2 * kMaxClients) +
                 " connections beyond --max-clients were closed");
        for (auto& c : held)
          if (!c->ok()) s.fail("flood: a connection within --max-clients failed");
        s.hostile += static_cast<uint64_t>(3 * kMaxClients);
      }  // all closed here
      if (!server_quiescent(server, 10s)) s.fail("flood: the server did not free the slots");
      s.refused_in_floods += count_of(server.output(), "[Server] Refusing connection") - refused_before;
      {
        const std::lock_guard<std::mutex> lock(s.mu);
        s.flood_pending = false;
        s.cv.notify_all();
      }
    }
    if (server.wait(0ms)) break;  // died: stop early, reported below
  }
  {
    const std::lock_guard<std::mutex> lock(s.mu);
    s.cv.notify_all();
  }
  for (auto& t : workers) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  INFO("server log: " << s.dir << "/server.log");
  REQUIRE_MESSAGE(!server.wait(0ms), "the server died: " << server.output().substr(0, 4000));
  CHECK(server_quiescent(server, 10s));
  const long fds_end = fd_count(spid);
  const long rss_end = rss_kib(spid);

  std::ostringstream report;
  report << "soak " << wall << " s: " << s.honest_ok << "/" << s.honest_total << " honest clients verified, "
         << s.hostile << " hostile connections (";
  for (int k = 0; k < kNumKinds; ++k) report << kKindNames[k] << " " << s.by_kind[k] << ", ";
  report << floods << " floods, " << s.refused_in_floods << " refused); fds " << fds_start << " -> " << fds_end
         << "; VmRSS KiB start " << rss_start << ", at 10 s " << rss_warm << ", end " << rss_end << "; over time:";
  for (size_t i = 0; i < rss.size(); i += 5) report << " " << static_cast<int>(rss[i].first) << "s=" << rss[i].second;
  MESSAGE(report.str());

  for (const auto& f : s.failures) FAIL_CHECK(f);
  CHECK(s.failures.empty());
  CHECK(s.honest_total > 0);
  CHECK(s.honest_ok == s.honest_total);
  CHECK(s.hostile > 0);
  CHECK(fds_end == fds_start);
  // Memory: after warm-up the RSS may grow by a few MiB (allocator caches), not more.
  constexpr long kRssSlackKib = 8 * 1024;
  if (rss_warm > 0) CHECK(rss_end <= rss_warm + kRssSlackKib);

  server.signal(SIGTERM);
  const auto st = server.wait(10s);
  INFO(server.output().substr(0, 2000));
  CHECK(st == std::optional<int>(0));
  CHECK(server.output().find("SIGTERM: shutting down") != std::string::npos);
}
