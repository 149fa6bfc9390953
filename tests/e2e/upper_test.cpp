// The seed's story end to end: HTTP over TLS 1.3 over the session layer over TCP, through
// routers, a lossy link and a small MTU; checked inside the simulator and by Wireshark.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"
#include "megzawicol/app/http_app.hpp"

using namespace mz;
using namespace mz::test;

namespace {

std::string scenario_path(const std::string& name) { return std::string(MZ_SOURCE_DIR) + "/scenarios/" + name; }

template <class T>
const T& app_of(sim::Simulation& s, const std::string& node) {
  for (const auto& a : s.host(node).apps())
    if (auto* p = dynamic_cast<const T*>(a.get())) return *p;
  FAIL("no such app on " << node);
  throw 0;
}

}  // namespace

TEST_CASE("seed story: the server receives exactly the client's message and the client gets the echo") {
  auto sc = scenario::load_scenario_file(scenario_path("seed-story.json"));
  const std::string dir = fresh_dir("seed-story");
  std::ostringstream console;
  sim::RunOptions o;
  o.out_dir = dir;
  o.console = &console;
  sim::Simulation s(sc, o);
  s.run();
  const auto& client = app_of<app::HttpClientApp>(s, "client");
  const auto& server = app_of<app::HttpServerApp>(s, "server");
  REQUIRE_MESSAGE(!client.failed(), client.error());
  CHECK(client.finished());
  REQUIRE(server.requests().size() == 2);
  for (const auto& req : server.requests()) {
    CHECK(req.method == "POST");
    CHECK(req.target == "/api/v1/messages");
    for (const char* h : {"Host", "User-Agent", "Content-Type", "Cookie", "Authorization", "Accept", "Content-Length"})
      CHECK_MESSAGE(req.header(h) != nullptr, h);
    CHECK(*req.header("Content-Type") == "application/json");
    const auto body = nlohmann::json::parse(req.body);
    CHECK(body["message"] == sc.apps[0].message);  // byte for byte, across every layer
  }
  REQUIRE(client.received().size() == 2);
  for (const auto& res : client.received()) {
    CHECK(res.status == 200);
    const auto echo = nlohmann::json::parse(res.body);
    CHECK(echo["message"] == sc.apps[0].message);
    CHECK(echo["path"] == "/api/v1/messages");
  }
  // What the story is meant to show did happen on the way.
  const auto& r1 = s.host("r1").counters();
  CHECK(r1.fragments_out > 0);                        // 1500-byte packets cut for the 576-byte link
  CHECK(s.host("server").counters().reassembled > 0);
  const std::string log = read_file(dir + "/trace.log");
  for (const char* layer : {"[Physical Layer]", "[Data Link Layer]", "[Network Layer]", "[Transport Layer]",
                            "[Session Layer]", "[Presentation Layer]", "[Application Layer]"})
    CHECK_MESSAGE(log.find(layer) != std::string::npos, layer);
  CHECK(log.find("TLS 1.3 handshake complete") != std::string::npos);
  // The key log is there, owner-only, in NSS format.
  struct stat st {};
  REQUIRE(::stat((dir + "/keylog.txt").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string keylog = read_file(dir + "/keylog.txt");
  for (const char* label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ", "CLIENT_TRAFFIC_SECRET_0 ",
                            "SERVER_TRAFFIC_SECRET_0 "})
    CHECK_MESSAGE(keylog.find(label) != std::string::npos, label);
}

TEST_CASE("seed story: Wireshark decrypts the capture with our key log and shows every layer") {
  if (!have_tshark()) {
    MESSAGE("tshark not found: skipping (CI installs it)");
    return;
  }
  auto sc = scenario::load_scenario_file(scenario_path("seed-story.json"));
  const std::string dir = fresh_dir("seed-story-tshark");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  s.run();
  const std::string lua = std::string(MZ_SOURCE_DIR) + "/tools/megzawicol_session.lua";
  const std::string opts = " -X lua_script:" + lua + " -o tls.keylog_file:" + dir + "/keylog.txt -d tcp.port==65432,megzawicol_session ";
  const auto reqs = tshark_lines("-r " + dir + "/server-eth0.pcap" + opts +
                                 "-Y 'http.request.method == \"POST\"' -T fields -e http.request.uri -e http.file_data");
  REQUIRE(!reqs.empty());
  CHECK(reqs[0].rfind("/api/v1/messages\t", 0) == 0);
  CHECK(reqs[0].find(sc.apps[0].message.substr(0, 60)) != std::string::npos);
  const auto stacks = tshark_lines("-r " + dir + "/server-eth0.pcap" + opts + "-Y http -T fields -e frame.protocols");
  REQUIRE(!stacks.empty());
  for (const char* p : {"eth:", ":ip:", ":tcp:", ":megzawicol_session", ":tls", ":http"})
    CHECK_MESSAGE(stacks[0].find(p) != std::string::npos, p << " in " << stacks[0]);
  // No malformed packet and valid checksums on either side of the routers.
  for (const char* f : {"/client-eth0.pcap", "/server-eth0.pcap"})
    CHECK_MESSAGE(tshark_lines("-r " + dir + f + opts +
                               "-o eth.check_fcs:TRUE -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
                               "-Y '_ws.malformed || ip.checksum.status == 0 || tcp.checksum.status == 0'")
                      .empty(),
                  f);
}

TEST_CASE("seed story: a server key that does not match the pinned one fails the handshake cleanly") {
  auto sc = scenario::load_scenario_file(scenario_path("seed-story.json"));
  sc.apps[0].pinned_key = std::array<uint8_t, 32>{};
  sc.apps[0].pinned_key->fill(0x42);
  const std::string dir = fresh_dir("seed-story-badkey");
  sim::RunOptions o;
  o.out_dir = dir;
  sim::Simulation s(sc, o);
  s.run();
  const auto& client = app_of<app::HttpClientApp>(s, "client");
  const auto& server = app_of<app::HttpServerApp>(s, "server");
  CHECK(client.failed());
  CHECK(client.error().find("bad_certificate") != std::string::npos);
  CHECK(client.responses() == 0);
  CHECK(server.requests().empty());  // no plaintext ever reached the server's application
  const std::string log = read_file(dir + "/trace.log");
  CHECK(log.find("TLS alert") != std::string::npos);
  CHECK(client.finished());
}

TEST_CASE("session layer: a second connection resumes the session and an unknown one is refused") {
  auto sc = scenario::load_scenario_file(scenario_path("seed-story.json"));
  sc.apps[0].connections = 3;
  sc.apps[0].requests = 1;
  sc.links[1].a_to_b.loss = sc.links[1].b_to_a.loss = 0;
  sim::Simulation s(sc, {});
  s.run();
  const auto& client = app_of<app::HttpClientApp>(s, "client");
  REQUIRE_MESSAGE(!client.failed(), client.error());
  CHECK(client.responses() == 3);
  const auto& server = app_of<app::HttpServerApp>(s, "server");
  REQUIRE(client.session_id());
  // Opened once, resumed twice, ended by the last connection.
  const auto st = server.sessions().state(*client.session_id());
  REQUIRE(st);
  CHECK(*st == l5::SessionState::kClosed);
  std::string states;
  for (const auto& f : client.summary())
    if (f.key == "session_states") states = std::get<std::string>(f.value);
  CHECK(states == "NEW,RESUMED,RESUMED");
}

TEST_CASE("http client: a connection that stops answering mid-exchange is a failure, not a clean close") {
  // The cable dies after the first of two responses. The client gives up after its
  // timeout; aborting the connection raises a Closed event, which once ended the exchange
  // as a clean close first ("ok" with 1 of 2 responses).
  auto sc = scenario::load_scenario_text(R"({"name": "http-timeout", "duration": "60s",
    "nodes": [{"name": "client", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
              {"name": "server", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
    "links": [{"name": "cable", "ends": ["client:eth0", "server:eth0"], "delay": "50ms"}],
    "events": [{"at": "580ms", "link": "cable", "action": "down"}],
    "apps": [{"kind": "http", "name": "web", "node": "client", "target": "server", "requests": 2, "timeout": "2s"}]})",
                                         "http-timeout.json");
  sim::Simulation s(sc, {});
  s.run();
  const auto& client = app_of<app::HttpClientApp>(s, "client");
  CHECK(client.finished());
  CHECK(client.responses() == 1);
  CHECK(client.failed());
  CHECK(client.error() == "no answer within 2s");
}

TEST_CASE("http client: keep_alive false sends each request on its own connection") {
  // requests x connections exchanges either way. With keep_alive false every request says
  // "Connection: close" and gets a connection (and a resumed session) of its own, instead
  // of a second request on a connection the server was asked to close: that one used to
  // fail ("the server closed the connection before answering") or, on a plain close,
  // pass with one response of two.
  for (const bool keep_alive : {true, false}) {
    CAPTURE(keep_alive);
    auto sc = scenario::load_scenario_text(R"({"name": "http-keepalive", "duration": "60s",
      "nodes": [{"name": "client", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
                {"name": "server", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
      "links": [{"name": "cable", "ends": ["client:eth0", "server:eth0"], "delay": "5ms"}],
      "apps": [{"kind": "http", "name": "web", "node": "client", "target": "server", "message": "m",
                "requests": 3, "connections": 2, "keep_alive": )" + std::string(keep_alive ? "true" : "false") + "}]}",
                                           "http-keepalive.json");
    sim::Simulation s(sc, {});
    s.run();
    const auto& client = app_of<app::HttpClientApp>(s, "client");
    const auto& server = app_of<app::HttpServerApp>(s, "server");
    REQUIRE(client.finished());
    REQUIRE_MESSAGE(!client.failed(), client.error());
    CHECK(client.responses() == 6);
    CHECK(server.requests().size() == 6);
    for (const auto& req : server.requests()) {
      const auto* conn = req.header("Connection");
      // keep_alive: the last request of each connection asks the server to close.
      if (!keep_alive) CHECK((conn && *conn == "close"));
    }
    std::string states;
    uint64_t connections = 0;
    for (const auto& f : client.summary()) {
      if (f.key == "session_states") states = std::get<std::string>(f.value);
      if (f.key == "connections") connections = std::get<uint64_t>(f.value);
    }
    CHECK(connections == (keep_alive ? 2u : 6u));
    CHECK(states == (keep_alive ? "NEW,RESUMED" : "NEW,RESUMED,RESUMED,RESUMED,RESUMED,RESUMED"));
    REQUIRE(client.session_id());
    CHECK(server.sessions().state(*client.session_id()) == l5::SessionState::kClosed);
  }
}

TEST_CASE("http client: a complete exchange stays complete when the FIN after it is lost") {
  // The response arrives at 0.502 s and the client closes at once; its FIN (with the
  // session's CLOSE) is on the cable when the cable goes down at 0.52 s, for 10 s. The
  // client used to wait for the server's FIN before calling the exchange over, and its
  // answer timeout (2 s) then failed a complete exchange with "no answer within 2s".
  auto sc = scenario::load_scenario_text(R"({"name": "http-lost-fin", "duration": "60s",
    "nodes": [{"name": "client", "interfaces": [{"name": "eth0", "address": "10.0.0.1/24"}]},
              {"name": "server", "interfaces": [{"name": "eth0", "address": "10.0.0.2/24"}]}],
    "links": [{"name": "cable", "ends": ["client:eth0", "server:eth0"], "delay": "50ms"}],
    "events": [{"at": "520ms", "link": "cable", "action": "down"}, {"at": "10s", "link": "cable", "action": "up"}],
    "apps": [{"kind": "http", "name": "web", "node": "client", "target": "server", "requests": 1, "timeout": "2s"}]})",
                                         "http-lost-fin.json");
  sim::Simulation s(sc, {});
  s.run();
  const auto& client = app_of<app::HttpClientApp>(s, "client");
  const auto& server = app_of<app::HttpServerApp>(s, "server");
  REQUIRE(client.finished());
  CHECK_MESSAGE(!client.failed(), client.error());
  CHECK(client.responses() == 1);
  CHECK(server.requests().size() == 1);
  // TCP delivered the CLOSE once the cable came back: the session ended on the server.
  REQUIRE(client.session_id());
  CHECK(server.sessions().state(*client.session_id()) == l5::SessionState::kClosed);
}
