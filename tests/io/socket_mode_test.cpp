// Socket mode end to end: real `megzawicol server` and `megzawicol client` processes on
// loopback. Every child process is owned by a Child guard that kills and reaps it, also
// when a check fails; every wait is bounded.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "megzawicol/core/rng.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/wire/crc32.hpp"
#include "../support/process.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using mz::testsupport::Child;
using mz::testsupport::RawConn;
using mz::testsupport::slurp;

std::string fresh_dir(const std::string& name) { return mz::testsupport::fresh_dir("io", name); }

// A server on an ephemeral loopback port.
struct Server {
  std::string dir;
  std::unique_ptr<Child> proc;
  uint16_t port = 0;

  explicit Server(const std::string& name, std::vector<std::string> extra = {}) : dir(fresh_dir(name)) {
    std::vector<std::string> args{"server", "--listen", "127.0.0.1:0", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<Child>(args, dir + "/server.log");
    REQUIRE(proc->started());
    REQUIRE_MESSAGE(proc->wait_output("[Server] Listening on 127.0.0.1:", 10s), proc->output());
    const std::string out = proc->output();
    const auto at = out.find("Listening on 127.0.0.1:") + std::string("Listening on 127.0.0.1:").size();
    port = static_cast<uint16_t>(std::stoi(out.substr(at)));
    REQUIRE(port != 0);
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port); }
  std::string log() const { return proc->output(); }
};

struct Result {
  int status = -1;
  std::string output;
};

Result run_client(const std::string& dir, const std::string& name, std::vector<std::string> args,
                  std::chrono::milliseconds limit = 60s) {
  args.insert(args.begin(), "client");
  Child c(args, dir + "/" + name + ".log");
  const auto st = c.wait(limit);
  Result r;
  r.status = st ? *st : -1;
  r.output = c.output();
  return r;
}

void check_honest_client(const Server& s, const std::string& name) {
  const Result r = run_client(s.dir, name, {"--connect", s.endpoint(), "--message", "still alive", "--quiet"});
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("[Client] Server echoed: \"still alive\"") != std::string::npos);
}

// A raw TCP connection from the test (the hostile peer).
std::vector<uint8_t> line_coded_frame(size_t len) { return mz::testsupport::line_coded(std::vector<uint8_t>(len, 0xab)); }

}  // namespace

TEST_CASE("socket mode: one message goes through all layers and comes back") {
  Server s("one-message", {"--out", fresh_dir("one-message-server")});
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--message", "Hello over a real socket!",
                                                "--out", s.dir + "/client-out", "--keylog"});
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("[Client] TLS 1.3 handshake complete") != std::string::npos);
  CHECK(r.output.find("[Client] Received response: 200") != std::string::npos);
  CHECK(r.output.find("[Client] Server echoed: \"Hello over a real socket!\"") != std::string::npos);
  CHECK(r.output.find("[Client] Echo verified") != std::string::npos);
  // The per-layer account, as in a simulation's trace.log.
  for (const char* layer : {"[Physical Layer]", "[Data Link Layer]", "[Network Layer]", "[Transport Layer]",
                            "[Session Layer]", "[Presentation Layer]", "[Application Layer]"})
    CHECK_MESSAGE(r.output.find(layer) != std::string::npos, layer);
  CHECK(std::filesystem::exists(s.dir + "/client-out/trace.jsonl"));
  CHECK(std::filesystem::exists(s.dir + "/client-out/client-eth0.pcap"));
  const auto perms = std::filesystem::status(s.dir + "/client-out/keylog.txt").permissions();
  CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
        std::filesystem::perms::none);
  CHECK(s.proc->wait_output("[Server] Received: POST /api/v1/messages", 5s));
}

TEST_CASE("socket mode: a 3 MB file crosses a lossy noisy line byte for byte") {
  Server s("large-file", {"--loss", "0.05", "--ber", "1e-6"});
  // 3 MB of seeded random printable text.
  std::string text(3 * 1000 * 1000, ' ');
  mz::Rng rng(20240611);
  for (char& ch : text) ch = static_cast<char>('a' + rng.uniform_int(0, 25));
  for (size_t i = 0; i < text.size(); i += 1 + rng.uniform_int(0, 80)) text[i] = ' ';
  const std::string file = s.dir + "/big.txt";
  std::ofstream(file, std::ios::binary) << text;
  const auto t0 = Clock::now();
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--file", file, "--loss", "0.05", "--ber",
                                                "1e-6", "--quiet", "--timeout", "60s"},
                              90s);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  INFO(r.output.substr(0, 4000));
  CHECK(r.status == 0);
  CHECK(r.output.find("[Client] Echo verified: 3000000 bytes") != std::string::npos);
  MESSAGE("3 MB echoed with 5% loss and BER 1e-6 in " << secs << " s (" << 3.0 / secs << " MB/s each way)");
}

TEST_CASE("socket mode: a binary file (every byte value) is echoed verbatim, twice on one connection") {
  Server s("binary-file", {});
  std::string data(2 * 1000 * 1000, '\0');
  mz::Rng rng(77);
  for (char& ch : data) ch = static_cast<char>(rng.uniform_int(0, 255));
  data[0] = '\0';  // NUL and invalid UTF-8 are fine: the body is application/octet-stream
  data[1] = static_cast<char>(0xFF);
  const std::string file = s.dir + "/blob.bin";
  std::ofstream(file, std::ios::binary) << data;
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--file", file, "--count", "2", "--quiet"}, 60s);
  INFO(r.output.substr(0, 4000));
  CHECK(r.status == 0);
  CHECK(r.output.find("[Client] Echo verified: 2000000 bytes x 2 identical") != std::string::npos);
  CHECK(r.output.find("Sending: 2000000 bytes (application/octet-stream)") != std::string::npos);
}

TEST_CASE("socket mode: a one-way upload of a binary file is acknowledged with its length and CRC-32") {
  Server s("upload", {});
  // Every byte value, then seeded random bytes.
  std::string data(1500 * 1000, '\0');
  for (size_t i = 0; i < 256; ++i) data[i] = static_cast<char>(i);
  mz::Rng rng(4242);
  for (size_t i = 256; i < data.size(); ++i) data[i] = static_cast<char>(rng.uniform_int(0, 255));
  const std::string file = s.dir + "/blob.bin";
  std::ofstream(file, std::ios::binary) << data;
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x",
                static_cast<unsigned>(mz::wire::crc32(
                    mz::ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size()))));
  const Result r = run_client(s.dir, "client",
                              {"--connect", s.endpoint(), "--file", file, "--upload", "--count", "3", "--quiet"}, 60s);
  INFO(r.output.substr(0, 4000));
  CHECK(r.status == 0);
  CHECK(r.output.find("Sending: 1500000 bytes (application/octet-stream) to /api/v1/upload") != std::string::npos);
  CHECK(r.output.find(std::string("[Client] Upload verified: 1500000 bytes x 3, CRC-32 ") + crc) != std::string::npos);
  // The reply is the count and the digest, not the body.
  CHECK(r.output.find(std::string("\"bytes\":1500000,\"crc32\":\"") + crc + "\"") != std::string::npos);
  CHECK(s.proc->wait_output("[Server] Received: POST /api/v1/upload", 5s));

  SUBCASE("an empty file uploads as zero bytes") {
    const std::string empty = s.dir + "/empty.bin";
    std::ofstream(empty, std::ios::binary).flush();
    const Result e = run_client(s.dir, "empty", {"--connect", s.endpoint(), "--file", empty, "--upload", "--quiet"});
    INFO(e.output);
    CHECK(e.status == 0);
    CHECK(e.output.find("[Client] Upload verified: 0 bytes x 1, CRC-32 00000000") != std::string::npos);
  }
}

TEST_CASE("socket mode: an upload whose body changed on the way fails the CRC-32 check (status 6)") {
  Server s("upload-mismatch", {});
  std::string data(300 * 1000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + 3);
  const std::string file = s.dir + "/blob.bin";
  std::ofstream(file, std::ios::binary) << data;
  // The bit is flipped above TLS, so every lower layer carries the wrong bytes faithfully:
  // only the end-to-end digest can tell.
  const Result r = run_client(
      s.dir, "client", {"--connect", s.endpoint(), "--file", file, "--upload", "--corrupt-body", "--count", "2", "--quiet"});
  INFO(r.output);
  CHECK(r.status == 6);
  CHECK(r.output.find("upload mismatch: the server received 300000 bytes with CRC-32 ") != std::string::npos);
  CHECK(r.output.find("Upload verified") == std::string::npos);
  // The same flip on an echo is caught by the byte comparison.
  const Result e = run_client(s.dir, "echo", {"--connect", s.endpoint(), "--file", file, "--corrupt-body", "--quiet"});
  INFO(e.output);
  CHECK(e.status == 6);
  CHECK(e.output.find("echo mismatch: the echoed body differs") != std::string::npos);
  // Bad usage is refused before connecting.
  const Result u = run_client(s.dir, "usage", {"--connect", s.endpoint(), "--upload", "--quiet"});
  CHECK(u.status == 2);
  CHECK(u.output.find("--upload needs --file PATH") != std::string::npos);
  check_honest_client(s, "honest");
}

TEST_CASE("socket mode: 50 concurrent clients all get their own echo") {
  Server s("fifty", {});
  const auto t0 = Clock::now();
  std::vector<std::unique_ptr<Child>> clients;
  for (int i = 0; i < 50; ++i)
    clients.push_back(std::make_unique<Child>(
        std::vector<std::string>{"client", "--connect", s.endpoint(), "--message", "client number " + std::to_string(i),
                                 "--quiet"},
        s.dir + "/client-" + std::to_string(i) + ".log"));
  int ok = 0;
  for (int i = 0; i < 50; ++i) {
    const auto st = clients[static_cast<size_t>(i)]->wait(60s);
    const std::string out = clients[static_cast<size_t>(i)]->output();
    INFO("client " << i << ": " << out);
    CHECK(st == std::optional<int>(0));
    CHECK(out.find("[Client] Server echoed: \"client number " + std::to_string(i) + "\"") != std::string::npos);
    ok += st == std::optional<int>(0);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  MESSAGE(ok << " of 50 concurrent clients succeeded in " << secs << " s wall time");
}

TEST_CASE("socket mode: a wrong pinned key fails the handshake with a clear message") {
  Server s("wrong-pin", {});
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--pin", std::string(64, '4'), "--quiet"});
  INFO(r.output);
  CHECK(r.status == 4);
  CHECK(r.output.find("TLS handshake failed") != std::string::npos);
  CHECK(r.output.find("bad_certificate") != std::string::npos);
  check_honest_client(s, "honest");
}

TEST_CASE("socket mode: no server means connection refused") {
  // A port nobody listens on: bind one, note it, close it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin_port);
  ::close(fd);
  const Result r = run_client(fresh_dir("refused"), "client", {"--connect", "127.0.0.1:" + std::to_string(port)}, 20s);
  INFO(r.output);
  CHECK(r.status == 3);
  CHECK(r.output.find("connection refused") != std::string::npos);
}

TEST_CASE("socket mode: hostile peers are closed and honest clients still served") {
  Server s("hostile", {"--idle-timeout", "1s", "--max-clients", "4"});
  SUBCASE("garbage bytes") {
    RawConn c(s.port);
    REQUIRE(c.ok());
    std::vector<uint8_t> junk(200 * 1024);
    mz::Rng rng(7);
    rng.fill(junk.data(), junk.size());
    c.send_all(junk);
    CHECK(c.closed_within(5s));
    CHECK(s.proc->wait_output("too much garbage on the line", 5s));
  }
  SUBCASE("a truncated frame then silence") {
    RawConn c(s.port);
    REQUIRE(c.ok());
    auto f = line_coded_frame(200);
    f.resize(f.size() / 2);
    c.send_all(f);
    CHECK(c.closed_within(5s));
    CHECK(s.proc->wait_output("idle timeout", 5s));
    CHECK(s.log().find("stopped in the middle of a frame") != std::string::npos);
  }
  SUBCASE("an oversized frame") {
    RawConn c(s.port);
    REQUIRE(c.ok());
    c.send_all(line_coded_frame(20000));
    CHECK(c.closed_within(5s));
    CHECK(s.proc->wait_output("oversized frame", 5s));
  }
  SUBCASE("a flood of connections beyond --max-clients") {
    std::vector<std::unique_ptr<RawConn>> held;
    for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConn>(s.port));
    REQUIRE(s.proc->wait_output("(4 active)", 5s));
    std::vector<std::unique_ptr<RawConn>> extra;
    for (int i = 0; i < 8; ++i) extra.push_back(std::make_unique<RawConn>(s.port));
    for (auto& c : extra) CHECK(c->closed_within(5s));
    CHECK(s.proc->wait_output("Refusing connection", 5s));
    held.clear();  // the server sees EOF and frees the slots
    CHECK(s.proc->wait_output("peer closed the connection", 5s));
  }
  SUBCASE("a tampered TLS record") {
    const Result r = run_client(s.dir, "tamper", {"--connect", s.endpoint(), "--tamper", "--quiet"}, 30s);
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("bad_record_mac") != std::string::npos);
    CHECK(s.proc->wait_output("TLS failure", 5s));
  }
  // Give the server a moment to free the slots of closed connections.
  for (int i = 0; i < 100 && s.log().find("(0 active)") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
  check_honest_client(s, "honest");
  CHECK(s.proc->wait(0ms) == std::nullopt);  // still running
}

TEST_CASE("socket mode: SIGTERM stops the server with status 0 and a flushed trace") {
  const std::string out = fresh_dir("sigterm-out");
  Server s("sigterm", {"--out", out});
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--quiet"});
  CHECK(r.status == 0);
  s.proc->signal(SIGTERM);
  const auto st = s.proc->wait(10s);
  INFO(s.log());
  CHECK(st == std::optional<int>(0));
  CHECK(s.log().find("SIGTERM: shutting down") != std::string::npos);
  const std::string trace = slurp(out + "/trace.log");
  CHECK(trace.find("[Application Layer]") != std::string::npos);
  CHECK(trace.find("server stopped by a signal") != std::string::npos);
  CHECK(slurp(out + "/trace.jsonl").find("\"event\":\"end\"") != std::string::npos);
}

TEST_CASE("socket mode: the pcap dissects in tshark like the simulator's") {
  std::string dummy;
  if (std::system("tshark --version >/dev/null 2>&1") != 0) {
    MESSAGE("tshark not found: skipping (CI installs it)");
    return;
  }
  Server s("tshark", {});
  const std::string out = s.dir + "/client-out";
  const Result r = run_client(s.dir, "client", {"--connect", s.endpoint(), "--message", "dissect me", "--quiet",
                                                "--out", out, "--keylog"});
  REQUIRE(r.status == 0);
  const std::string lua = std::string(MZ_SOURCE_DIR) + "/tools/megzawicol_session.lua";
  const std::string opts = " -X lua_script:" + lua + " -o tls.keylog_file:" + out +
                           "/keylog.txt -d tcp.port==65432,megzawicol_session -o eth.fcs:Always ";
  auto tshark = [&](const std::string& args) {
    std::string o;
    std::FILE* p = popen(("tshark -r " + out + "/client-eth0.pcap" + opts + args + " 2>&1").c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.append(buf, n);
    CHECK(pclose(p) == 0);
    std::string filtered;
    std::istringstream ss(o);
    for (std::string line; std::getline(ss, line);)
      if (!line.empty() && line.find("Running as user") == std::string::npos) filtered += line + "\n";
    return filtered;
  };
  const std::string reqs = tshark("-Y 'http.request.method == \"POST\"' -T fields -e http.request.uri -e http.file_data");
  INFO(reqs);
  CHECK(reqs.find("/api/v1/messages") != std::string::npos);
  CHECK(reqs.find("dissect me") != std::string::npos);
  const std::string stacks = tshark("-Y http -T fields -e frame.protocols");
  for (const char* p : {"eth:", ":ip:", ":tcp:", ":megzawicol_session", ":tls", ":http"})
    CHECK_MESSAGE(stacks.find(p) != std::string::npos, p << " in " << stacks);
  CHECK(tshark("-o eth.check_fcs:TRUE -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
               "-Y '_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0'")
            .empty());
}
