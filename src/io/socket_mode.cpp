// Socket mode: see include/megzawicol/io/socket_mode.hpp.
//
// Memory per connection is bounded by: the 64 KiB read buffer; the LineDecoder (the last
// chunk plus one frame of at most MTU + 22 bytes); the write queue (kMaxQueuedLineBytes,
// beyond which frames are dropped like a full drop-tail queue, and as many again in the
// delay line); the stack's TCP buffers (256 KiB each way); the HTTP limits (kMaxHttpBody
// per message, plus its TLS and session copies while in flight). About 100 MiB in the
// worst case of a maximal request; a few hundred KiB for the seed's message.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 (see notes/build.md)

#include <boost/asio.hpp>

#include "megzawicol/io/socket_mode.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "megzawicol/app/http_app.hpp"
#include "megzawicol/l1/bit_errors.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/l6/crypto.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/stack/host.hpp"
#include "megzawicol/trace/pcap.hpp"
#include "megzawicol/trace/tracer.hpp"
#include "megzawicol/wire/crc32.hpp"

namespace mz::io {

namespace asio = boost::asio;
using asio::ip::tcp;
using trace::Field;
using trace::Layer;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxQueuedLineBytes = 4 * 1024 * 1024;
constexpr size_t kMaxHttpBody = 16 * 1024 * 1024;
constexpr uint32_t kMaxErrorsInARow = 16;  // line errors without a good frame in between
constexpr uint32_t kMaxErrorLines = 10;    // console lines about line errors per connection

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------- process state

struct Process {
  asio::io_context io;
  Clock::time_point t0 = Clock::now();
  trace::Tracer tracer;
  std::unique_ptr<trace::PcapWriter> pcap;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> keylog{nullptr, &std::fclose};
  l6::SystemRandom sysrand;
  LinkOptions link;
  bool quiet = false;

  Time now() const {
    return Time::from_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  Clock::time_point at(Time t) const { return t0 + std::chrono::nanoseconds(t.ns); }
  uint64_t random_u64() {
    uint64_t v = 0;
    sysrand.fill(reinterpret_cast<uint8_t*>(&v), sizeof v);
    return v;
  }
  void say(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  void open_outputs(const CommonOptions& o, const std::string& host_name) {
    namespace fs = std::filesystem;
    link = o.link;
    quiet = o.quiet;
    if (!o.quiet) tracer.add_sink(std::make_unique<trace::LogSink>(stdout, false));
    if (o.out_dir.empty()) return;
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) throw std::runtime_error(o.out_dir + ": cannot create directory: " + ec.message());
    auto open = [&](const char* name) {
      const std::string p = (fs::path(o.out_dir) / name).string();
      std::FILE* f = std::fopen(p.c_str(), "wb");
      if (!f) throw std::runtime_error(p + ": cannot create file");
      return f;
    };
    tracer.add_sink(std::make_unique<trace::LogSink>(open("trace.log")));
    tracer.add_sink(std::make_unique<trace::JsonlSink>(open("trace.jsonl")));
    pcap = std::make_unique<trace::PcapWriter>((fs::path(o.out_dir) / (host_name + "-eth0.pcap")).string());
    if (!pcap->ok()) throw std::runtime_error(pcap->error());
    if (o.keylog) {
      const std::string path = (fs::path(o.out_dir) / "keylog.txt").string();
      // Secrets: owner-only from the start (no window where the file is world-readable).
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0) throw std::runtime_error(path + ": cannot create file");
      keylog.reset(::fdopen(fd, "wb"));
    }
  }
  app::KeylogSink keylog_sink() {
    if (!keylog) return {};
    return [this](const std::string& lines) {
      std::fwrite(lines.data(), 1, lines.size(), keylog.get());
      std::fflush(keylog.get());
    };
  }
  app::TlsRandomFactory tls_random() {
    return [] { return std::unique_ptr<l6::RandomSource>(std::make_unique<l6::SystemRandom>()); };
  }
  void flush() {
    tracer.flush();
    if (pcap) pcap->flush();
    std::fflush(stdout);
  }
};

l4::TcpConfig socket_tcp_config() {
  l4::TcpConfig c;  // the simulator's defaults (Linux-like): SACK, window scaling, 200 ms min RTO
  // Request/response traffic: the last, partial segment of a message must not wait for the
  // ACK of the previous ones, which the peer delays (Nagle + delayed ACK = a 40 ms stall per
  // message), so Nagle is off, as HTTP clients and servers do with TCP_NODELAY.
  c.nagle = false;
  return c;
}

stack::HostConfig host_config(const std::string& name, uint16_t node_index, Ipv4Cidr addr, uint32_t mtu) {
  stack::HostConfig hc;
  hc.name = name;
  hc.interfaces.push_back(stack::InterfaceConfig{"eth0", scenario::derived_mac(node_index, 0), addr, mtu});
  return hc;
}

// ---------------------------------------------------------------------- one wire

// One real TCP connection carrying the line code of one virtual link, with the virtual
// host at this end. Owned by shared_ptr: the pending Asio handlers keep it alive.
class Wire : public std::enable_shared_from_this<Wire> {
 public:
  Wire(Process& p, tcp::socket sock, std::unique_ptr<stack::Host> host, std::string tag, size_t max_garbage_bytes,
       Duration idle_timeout)
      : p_(p),
        sock_(std::move(sock)),
        host_(std::move(host)),
        tag_(std::move(tag)),
        timer_(p.io),
        idle_(p.io),
        delay_timer_(p.io),
        decoder_(p.link.mtu + 22),  // Ethernet header, FCS and a VLAN tag's worth of slack
        ber_(p.link.ber, Rng(p.link.seed ? Rng::stream(*p.link.seed, "ber:" + tag_).next_u64() : p.random_u64())),
        loss_rng_(p.link.seed ? Rng::stream(*p.link.seed, "loss:" + tag_).next_u64() : p.random_u64()),
        max_garbage_bits_(8 * max_garbage_bytes),
        idle_timeout_(idle_timeout) {}

  std::function<void(Wire&)> after_call;                        // after every call into the host
  std::function<void(Wire&, const std::string& why)> on_closed;  // once

  stack::Host& host() { return *host_; }
  bool closed() const { return closed_; }
  const std::string& tag() const { return tag_; }

  void start() {
    now_ = p_.now();
    host_->start(now_);
    service();
    read();
    arm_idle();
  }

  /// Closes once everything queued has been written.
  void close_after_flush() {
    close_when_flushed_ = true;
    maybe_finish_close();
  }

  void close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    idle_.cancel();
    delay_timer_.cancel();
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    if (on_closed) on_closed(*this, why);
  }

 private:
  void trace(Layer l, std::string_view ev, const std::string& msg, const std::vector<Field>& f = {}) {
    if (p_.tracer.enabled()) p_.tracer.emit(now_, host_->name(), l, ev, msg, f);
  }

  // After every call into the host: frames out, console lines, the hook, the timer.
  void service() {
    if (closed_) return;
    while (auto t = host_->poll_transmit()) transmit(t->frame);
    for (auto& a : host_->apps())
      for (auto& line : a->take_output()) {
        if (line.rfind("[Server] Listening on ", 0) == 0) continue;  // the real listener says it
        p_.say(line);
      }
    if (after_call) after_call(*this);
    if (closed_) return;
    arm_timer();
  }

  void arm_timer() {
    const auto next = host_->poll_timeout();
    if (next == armed_) return;
    armed_ = next;
    if (!next) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(p_.at(*next));
    timer_.async_wait([self = shared_from_this(), gen = ++timer_gen_](const boost::system::error_code& ec) {
      if (ec || self->closed_ || gen != self->timer_gen_) return;
      self->armed_.reset();
      self->now_ = self->p_.now();
      self->host_->handle_timeout(self->now_);
      self->service();
    });
  }

  void transmit(const PacketBuf& frame) {
    const Time now = now_;
    const size_t len = frame.size();
    if (p_.pcap) p_.pcap->write(now, frame.view());
    if (p_.tracer.enabled()) {
      trace(Layer::Physical, "tx_bits",
            "transmitting " + std::to_string(len) + "-byte frame as " + std::to_string(l1::line_bits_for_frame(len)) +
                " line bits (4B/5B) over the socket",
            {{"iface", host_->name() + ":eth0"}, {"frame_len", uint64_t{len}},
             {"line_bits", uint64_t{l1::line_bits_for_frame(len)}}});
    }
    if (p_.link.loss > 0 && loss_rng_.bernoulli(p_.link.loss)) {
      trace(Layer::Link, "lost",
            "frame of " + std::to_string(len) + " bytes dropped before the socket (loss probability " +
                std::to_string(p_.link.loss) + ")",
            {{"cause", std::string("loss")}});
      return;
    }
    Bytes line;
    encoder_.encode(frame.view(), line);
    std::vector<uint32_t> positions;
    const uint32_t flips =
        ber_.apply(line.data(), l1::line_bits_for_frame(len), p_.tracer.enabled() ? &positions : nullptr);
    if (flips && p_.tracer.enabled()) {
      std::string where;
      for (size_t i = 0; i < positions.size() && i < 8; ++i) where += (i ? ", " : "") + std::to_string(positions[i]);
      if (positions.size() > 8) where += ", ...";
      trace(Layer::Link, "bit_errors", std::to_string(flips) + " bit error(s) hit the frame at line bit(s) " + where,
            {{"flips", uint64_t{flips}}});
    }
    if (queued_bytes() + line.size() > 2 * kMaxQueuedLineBytes ||
        pending_.size() + line.size() > kMaxQueuedLineBytes) {
      trace(Layer::Link, "queue_drop",
            "socket send queue full (" + std::to_string(pending_.size()) + " bytes): frame of " + std::to_string(len) +
                " bytes dropped (drop-tail)",
            {{"cause", std::string("queue")}});
      return;
    }
    if (p_.link.delay.ns > 0) {
      const bool was_empty = delayed_.empty();
      delayed_.emplace_back(now + p_.link.delay, std::move(line));
      if (was_empty) arm_delay();
      return;
    }
    pending_.insert(pending_.end(), line.begin(), line.end());
    kick_write();
  }

  size_t queued_bytes() const {
    size_t n = pending_.size() + inflight_.size();
    for (const auto& d : delayed_) n += d.second.size();
    return n;
  }

  void arm_delay() {
    if (delayed_.empty() || closed_) return;
    delay_timer_.expires_at(p_.at(delayed_.front().first));
    delay_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      const Time now = self->p_.now();
      while (!self->delayed_.empty() && self->delayed_.front().first <= now) {
        auto& b = self->delayed_.front().second;
        self->pending_.insert(self->pending_.end(), b.begin(), b.end());
        self->delayed_.pop_front();
      }
      self->kick_write();
      self->arm_delay();
    });
  }

  void kick_write() {
    if (writing_ || closed_) return;
    if (pending_.empty()) {
      maybe_finish_close();
      return;
    }
    writing_ = true;
    inflight_.swap(pending_);
    pending_.clear();
    asio::async_write(sock_, asio::buffer(inflight_),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->writing_ = false;
                        self->inflight_.clear();
                        if (self->closed_) return;
                        if (ec) {
                          self->close("write failed: " + ec.message());
                          return;
                        }
                        self->kick_write();
                      });
  }

  void maybe_finish_close() {
    if (close_when_flushed_ && !writing_ && pending_.empty() && delayed_.empty()) close("done");
  }

  void arm_idle() {
    if (idle_timeout_.ns <= 0 || closed_) return;
    idle_.expires_after(std::chrono::nanoseconds(idle_timeout_.ns));
    idle_.async_wait([self = shared_from_this(), gen = ++idle_gen_](const boost::system::error_code& ec) {
      if (ec || self->closed_ || gen != self->idle_gen_) return;
      self->close("idle timeout: no bytes from the peer for " + format_duration(self->idle_timeout_) +
                  (self->decoder_.in_frame() ? " (stopped in the middle of a frame)" : ""));
    });
  }

  void read() {
    sock_.async_read_some(asio::buffer(rbuf_), [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
      if (self->closed_) return;
      if (ec) {
        self->close(ec == asio::error::eof ? std::string("peer closed the connection") : "read failed: " + ec.message());
        return;
      }
      self->on_bytes(n);
      if (!self->closed_) self->read();
    });
  }

  void line_error(const std::string& msg) {
    ++errors_in_a_row_;
    trace(Layer::Physical, "line_error", "line code error on the socket: " + msg + ": frame lost",
          {{"reason", msg}});
    if (++error_lines_ <= kMaxErrorLines)
      p_.say("[" + tag_ + "] line error: " + msg + (error_lines_ == kMaxErrorLines ? " (further errors not shown)" : ""));
  }

  void on_bytes(size_t n) {
    now_ = p_.now();
    arm_idle();
    decoder_.feed(ByteView(rbuf_.data(), n));
    bool any = false;
    while (auto r = decoder_.poll()) {
      if (!*r) {
        const std::string& msg = r->error().message;
        line_error(msg);
        if (msg.rfind("frame longer", 0) == 0) {
          close("oversized frame (" + msg + ")");
          return;
        }
        if (errors_in_a_row_ > kMaxErrorsInARow) {
          close(std::to_string(errors_in_a_row_) + " line errors without a valid frame");
          return;
        }
        continue;
      }
      errors_in_a_row_ = 0;
      discard_mark_ = decoder_.bits_discarded();
      l1::DecodedFrame& d = r->value();
      const Time now = now_;
      if (p_.tracer.enabled()) {
        std::string msg = "received " + std::to_string(l1::line_bits_for_frame(d.frame.size())) +
                          " line bits from the socket, decoded a " + std::to_string(d.frame.size()) + "-byte frame";
        if (d.symbol_errors) msg += " with " + std::to_string(d.symbol_errors) + " invalid code group(s)";
        trace(Layer::Physical, "rx_bits", msg,
              {{"iface", host_->name() + ":eth0"}, {"symbol_errors", uint64_t{d.symbol_errors}}});
      }
      if (p_.pcap) p_.pcap->write(now, d.frame);
      host_->handle_frame(now, 0, PacketBuf::from(d.frame), d.symbol_errors > 0);
      any = true;
    }
    if (decoder_.bits_discarded() - discard_mark_ > max_garbage_bits_) {
      const uint64_t bytes = (decoder_.bits_discarded() - discard_mark_) / 8;
      line_error(std::to_string(bytes) + " bytes of garbage without a start-of-stream");
      close("too much garbage on the line (" + std::to_string(bytes) + " bytes without a valid frame)");
      return;
    }
    if (any) service();
  }

  Process& p_;
  tcp::socket sock_;
  std::unique_ptr<stack::Host> host_;
  std::string tag_;
  asio::steady_timer timer_, idle_, delay_timer_;
  std::optional<Time> armed_;
  Time now_;  // the time of the current call into the host (one clock reading per batch)
  uint64_t timer_gen_ = 0, idle_gen_ = 0;
  l1::LineEncoder encoder_;
  l1::LineDecoder decoder_;
  l1::BitErrorInjector ber_;
  Rng loss_rng_;
  uint64_t max_garbage_bits_;
  Duration idle_timeout_;
  std::array<uint8_t, kReadChunk> rbuf_{};
  Bytes pending_, inflight_;
  std::deque<std::pair<Time, Bytes>> delayed_;
  bool writing_ = false;
  bool close_when_flushed_ = false;
  bool closed_ = false;
  uint64_t discard_mark_ = 0;
  uint32_t errors_in_a_row_ = 0, error_lines_ = 0;
};

bool is_loopback(const asio::ip::address& a) { return a.is_loopback(); }

std::string key_hex(const std::array<uint8_t, 32>& k) { return to_hex(ByteView(k.data(), k.size())); }

// What the client expects of each response, checked as it arrives (a long exchange of
// large bodies then never holds more than one): the server's JSON echo carries our message;
// a raw (--file) echo is the file byte for byte; an upload's reply gives the file's length
// and CRC-32.
class ResponseCheck {
 public:
  ResponseCheck(const ClientOptions& o, std::function<void(const std::string&)> say)
      : o_(o), say_(std::move(say)) {
    if (o.raw && o.upload) {
      char crc[9];
      std::snprintf(crc, sizeof crc, "%08x",
                    static_cast<unsigned>(wire::crc32(ByteView(reinterpret_cast<const uint8_t*>(o.message.data()),
                                                               o.message.size()))));
      expected_crc = crc;
    }
  }

  std::string expected_crc;  // upload: the file's CRC-32, 8 lowercase hex digits

  void add(const l7::HttpResponse& r) {
    ++count_;
    if (!why_.empty()) return;  // the first problem is the one reported
    if (r.status != 200) {
      why_ = "HTTP status " + std::to_string(r.status);
      return;
    }
    if (o_.raw && o_.upload) {
      const auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.contains("bytes") || !j["bytes"].is_number_unsigned() || !j.contains("crc32") ||
          !j["crc32"].is_string()) {
        why_ = "the upload reply carries no byte count and CRC-32: " + r.body.substr(0, 200);
        return;
      }
      const uint64_t bytes = j["bytes"].get<uint64_t>();
      const std::string crc = j["crc32"].get<std::string>();
      if (bytes != o_.message.size() || crc != expected_crc)
        why_ = "the server received " + std::to_string(bytes) + " bytes with CRC-32 " + crc + ", the file has " +
               std::to_string(o_.message.size()) + " bytes with CRC-32 " + expected_crc;
      return;
    }
    if (o_.raw) {  // a verbatim echo: compare the bytes, no JSON around them
      if (r.body != o_.message)
        why_ = "the echoed body differs from the file sent (" + std::to_string(r.body.size()) + " bytes back, " +
               std::to_string(o_.message.size()) + " sent)";
      return;
    }
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("message") || !j["message"].is_string()) {
      why_ = "the response carries no echoed message";
      return;
    }
    const std::string echoed = j["message"].get<std::string>();
    say_("[Client] Server echoed: \"" + (echoed.size() <= 200 ? echoed : echoed.substr(0, 200) + "...") + "\"");
    if (echoed != o_.message) why_ = "the echoed message differs from the message sent";
  }

  /// Empty when `expected` responses arrived and all passed; otherwise why not.
  std::string verdict(uint32_t expected) const {
    if (!why_.empty()) return why_;
    if (count_ != expected)
      return "expected " + std::to_string(expected) + " responses, got " + std::to_string(count_);
    return {};
  }

 private:
  const ClientOptions& o_;
  std::function<void(const std::string&)> say_;
  uint64_t count_ = 0;
  std::string why_;
};

}  // namespace

std::array<uint8_t, 32> demo_server_key() {
  // A fixed, publicly known key so that client and server agree without configuration.
  std::array<uint8_t, 32> k{};
  Rng::stream(0, "megzawicol socket-mode demo server key").fill(k.data(), k.size());
  return k;
}

bool parse_endpoint(const std::string& s, std::string& host, uint16_t& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
  host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long v = 0;
  for (size_t i = colon + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned long>(s[i] - '0');
    if (v > 65535) return false;
  }
  port = static_cast<uint16_t>(v);
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// ====================================================================== server

int run_server(const ServerOptions& o) {
  Process p;
  p.open_outputs(o, "server");
  std::string lhost;
  uint16_t lport = 0;
  if (!parse_endpoint(o.listen, lhost, lport)) {
    std::fprintf(stderr, "megzawicol server: --listen: not ADDRESS:PORT: \"%s\"\n", o.listen.c_str());
    return kExitUsage;
  }
  const auto laddr = asio::ip::make_address(lhost);
  tcp::acceptor acceptor(p.io);
  try {
    tcp::endpoint ep(laddr, lport);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "megzawicol server: cannot listen on %s: %s\n", o.listen.c_str(), e.code().message().c_str());
    return kExitFailure;
  }
  const auto local = acceptor.local_endpoint();
  const std::array<uint8_t, 32> key = o.key ? *o.key : demo_server_key();
  auto sessions = std::make_shared<l5::SessionServer>(Rng(p.random_u64()));
  std::set<std::shared_ptr<Wire>> wires;
  uint64_t accepted = 0, refused = 0;

  p.say("[Server] Listening on " + local.address().to_string() + ":" + std::to_string(local.port()) + "...");
  p.say("[Server] Virtual host " + o.server_addr.addr.to_string() + " port " + std::to_string(o.port) +
        ", server key " + key_hex(l6::ed25519_public(key)) + (o.key ? "" : " (the built-in demo key)"));
  if (!is_loopback(laddr)) p.say("[Server] Warning: listening on a non-loopback address");
  p.tracer.emit(p.now(), "server", Layer::Sim, "start",
                "socket mode: server listening on " + local.address().to_string() + ":" + std::to_string(local.port()));

  std::function<void()> do_accept = [&] {
    acceptor.async_accept([&](const boost::system::error_code& ec, tcp::socket sock) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          p.say("[Server] accept failed: " + ec.message());
          do_accept();
        }
        return;
      }
      boost::system::error_code ec2;
      const auto peer = sock.remote_endpoint(ec2);
      const std::string peer_s = ec2 ? std::string("?") : peer.address().to_string() + ":" + std::to_string(peer.port());
      if (wires.size() >= o.max_clients) {
        ++refused;
        p.say("[Server] Refusing connection from " + peer_s + ": already " + std::to_string(wires.size()) +
              " clients (--max-clients " + std::to_string(o.max_clients) + ")");
        sock.close(ec2);
        do_accept();
        return;
      }
      sock.set_option(tcp::no_delay(true), ec2);
      const uint64_t n = ++accepted;
      const std::string name = "server-" + std::to_string(n);
      auto host = std::make_unique<stack::Host>(host_config(name, 1, o.server_addr, o.link.mtu), &p.tracer,
                                                Rng(p.random_u64()));
      app::HttpServerConfig scfg;
      scfg.name = "http-server";
      scfg.port = o.port;
      scfg.server_key = key;
      scfg.rng_seed = p.random_u64();
      scfg.tcp = socket_tcp_config();
      scfg.keylog = p.keylog_sink();
      scfg.tls_random = p.tls_random();
      scfg.http_limits.max_body_bytes = kMaxHttpBody;
      scfg.shared_sessions = sessions;
      scfg.announce_listen = false;
      scfg.keep_requests = false;  // a long-lived server must not keep every body
      host->add_app(std::make_unique<app::HttpServerApp>(scfg));
      auto w = std::make_shared<Wire>(p, std::move(sock), std::move(host), name, o.max_garbage_bytes, o.idle_timeout);
      wires.insert(w);
      p.say("[Server] Accepted connection #" + std::to_string(n) + " from " + peer_s + " (" +
            std::to_string(wires.size()) + " active)");
      w->on_closed = [&wires, &p](Wire& wr, const std::string& why) {
        p.say("[Server] Connection " + wr.tag() + " closed: " + why);
        p.tracer.flush();
        // Erase later: we are inside one of its handlers.
        asio::post(p.io, [&wires, ptr = wr.shared_from_this()] { wires.erase(ptr); });
      };
      w->start();
      do_accept();
    });
  };
  do_accept();

  asio::signal_set signals(p.io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    p.say(std::string("[Server] ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ": shutting down (" +
          std::to_string(accepted) + " connections served, " + std::to_string(refused) + " refused)");
    boost::system::error_code ignored;
    acceptor.close(ignored);
    auto copy = wires;
    for (auto& w : copy) w->close("server shutting down");
    p.tracer.emit(p.now(), "server", Layer::Sim, "end", "socket mode: server stopped by a signal");
    p.io.stop();
  });
  p.io.run();
  p.flush();
  wires.clear();
  return kExitOk;
}

// ====================================================================== client

int run_client(const ClientOptions& o) {
  Process p;
  p.open_outputs(o, "client");
  std::string chost;
  uint16_t cport = 0;
  if (!parse_endpoint(o.connect, chost, cport)) {
    std::fprintf(stderr, "megzawicol client: --connect: not ADDRESS:PORT: \"%s\"\n", o.connect.c_str());
    return kExitUsage;
  }
  const tcp::endpoint ep(asio::ip::make_address(chost), cport);
  tcp::socket sock(p.io);
  int status = kExitFailure;
  std::string error;
  std::shared_ptr<Wire> wire;
  app::HttpClientApp* app = nullptr;
  bool done = false;
  const Time t_start = p.now();
  ResponseCheck check(o, [&](const std::string& line) { p.say(line); });

  auto finish = [&](int st, const std::string& err) {
    if (done) return;
    done = true;
    status = st;
    error = err;
    if (!err.empty()) std::fprintf(stderr, "megzawicol client: %s\n", err.c_str());
  };

  // Overall bound on the connection attempt (the app has its own answer timeout).
  asio::steady_timer connect_timer(p.io);
  connect_timer.expires_after(std::chrono::nanoseconds(o.timeout.ns));
  connect_timer.async_wait([&](const boost::system::error_code& ec) {
    if (ec || wire) return;
    finish(kExitTimeout, "timeout: could not connect to " + o.connect + " within " + format_duration(o.timeout));
    boost::system::error_code ignored;
    sock.close(ignored);
  });

  p.say("[Client] Connecting to " + o.connect + " (real TCP) ...");
  sock.async_connect(ep, [&](const boost::system::error_code& ec) {
    if (done) return;
    connect_timer.cancel();
    if (ec) {
      if (ec == asio::error::connection_refused)
        finish(kExitRefused, "connection refused: no server listening on " + o.connect);
      else
        finish(kExitFailure, "cannot connect to " + o.connect + ": " + ec.message());
      return;
    }
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto host = std::make_unique<stack::Host>(host_config("client", 0, o.client_addr, o.link.mtu), &p.tracer,
                                              Rng(p.random_u64()));
    app::HttpClientConfig ccfg;
    ccfg.name = "http";
    ccfg.target = o.server_addr.addr;
    ccfg.host_header = "server";
    ccfg.port = o.port;
    ccfg.message = o.message;
    ccfg.raw_body = o.raw;
    ccfg.requests = o.count;
    ccfg.timeout = o.timeout;
    ccfg.pinned_server_key = o.pin ? *o.pin : l6::ed25519_public(demo_server_key());
    ccfg.rng_seed = p.random_u64();
    ccfg.tcp = socket_tcp_config();
    ccfg.keylog = p.keylog_sink();
    ccfg.tls_random = p.tls_random();
    ccfg.http_limits.max_body_bytes = kMaxHttpBody * 2;
    ccfg.tamper_after_handshake = o.tamper;
    ccfg.upload = o.raw && o.upload;
    ccfg.corrupt_body = o.corrupt_body;
    // Each response is checked as it arrives and then dropped.
    ccfg.on_response = [&](const l7::HttpResponse& r) { check.add(r); };
    auto a = std::make_unique<app::HttpClientApp>(ccfg);
    app = a.get();
    host->add_app(std::move(a));
    wire = std::make_shared<Wire>(p, std::move(sock), std::move(host), "client", 64 * 1024, Duration::zero());
    wire->after_call = [&](Wire& w) {
      if (done || !app->finished()) return;
      if (app->failed()) {
        const std::string& e = app->error();
        if (e.find("TLS") != std::string::npos || e.find("alert") != std::string::npos)
          finish(kExitTls, (app->responses() == 0 ? "TLS handshake failed: " : "TLS failure: ") + e);
        else if (e.find("no answer within") != std::string::npos || e.find("timed out") != std::string::npos)
          finish(kExitTimeout, "timeout: " + e);
        else
          finish(kExitFailure, e);
      } else {
        const std::string why = check.verdict(o.count);
        if (why.empty()) {
          const double secs = (p.now() - t_start).to_seconds();
          char rate[64];
          std::snprintf(rate, sizeof rate, "%.3f s, %.2f MB/s%s", secs,
                        secs > 0 ? static_cast<double>(o.message.size()) * o.count / secs / 1e6 : 0.0,
                        o.upload ? "" : " each way");
          if (o.upload)
            p.say("[Client] Upload verified: " + std::to_string(o.message.size()) + " bytes x " +
                  std::to_string(o.count) + ", CRC-32 " + check.expected_crc + " (" + rate + ")");
          else
            p.say("[Client] Echo verified: " + std::to_string(o.message.size()) + " bytes x " +
                  std::to_string(o.count) + " identical (" + rate + ")");
          finish(kExitOk, "");
        } else {
          const char* what = o.upload ? "upload mismatch: " : "echo mismatch: ";
          p.say(std::string("[Client] Error: ") + what + why);
          finish(kExitMismatch, what + why);
        }
      }
      w.close_after_flush();
    };
    wire->on_closed = [&](Wire&, const std::string& why) {
      if (!done) finish(kExitFailure, "the server closed the connection before the exchange finished (" + why + ")");
      p.io.stop();
    };
    wire->start();
  });
  p.io.run();
  if (!done) finish(kExitFailure, "stopped");
  p.tracer.emit(p.now(), "client", Layer::Sim, "end",
                "socket mode: client finished" + (error.empty() ? std::string() : ": " + error));
  p.flush();
  if (wire) wire->close("exit");
  return status;
}

}  // namespace mz::io
