// Socket mode: `megzawicol server` and `megzawicol client` on loopback move N x 8 MB of
// request bodies through the whole stack (HTTP, TLS 1.3 records, session, TCP, IPv4,
// Ethernet + FCS, 4B/5B line code over a real TCP connection), two ways:
//   * upload: one-way (client --upload), the server consumes each body and answers with its
//     length and CRC-32, which the client checks;
//   * echo: the server echoes each body back, so the line carries the bytes twice.
// Against them, in the same run: a plain TCP copy of the same number of bytes over loopback
// (one way, one write/read loop), the machine's own ceiling. Application rate = request
// bytes / client wall time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "megzawicol/core/rng.hpp"

namespace fs = std::filesystem;

namespace mzb {
namespace {

constexpr size_t kBody = 8'000'000;  // one request body (the server accepts up to 16 MiB)

/// CPU seconds (user + system) of a live process, from /proc/PID/stat.
double proc_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::string cur;
  for (size_t i = close + 2; i < s.size(); ++i) {
    if (s[i] == ' ') {
      fields.push_back(cur);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  // After the ")": state is field 3; utime and stime are fields 14 and 15 (1-based).
  if (fields.size() < 13) return 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / tick;
}

pid_t spawn_with_stdout(const std::vector<std::string>& argv, int out_fd) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}

struct SocketRun {
  double wall = 0, client_cpu = 0, server_cpu = 0;
  bool ok = false;
  std::string detail;
};

SocketRun run_socket_mode(const std::string& cli, const std::string& file, size_t count, bool upload) {
  SocketRun r;
  int sp[2];
  if (pipe(sp) != 0) throw std::runtime_error("pipe");
  const pid_t server = spawn_with_stdout({cli, "server", "--listen", "127.0.0.1:0", "-q"}, sp[1]);
  close(sp[1]);
  // "[Server] Listening on 127.0.0.1:PORT..."
  std::string text;
  std::string port;
  char buf[512];
  while (port.empty()) {
    const ssize_t n = read(sp[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    const size_t at = text.find("Listening on 127.0.0.1:");
    if (at != std::string::npos) {
      size_t i = at + 23;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) port += text[i++];
      if (i == text.size()) port.clear();  // the line is not complete yet
    }
  }
  if (port.empty()) {
    kill(server, SIGKILL);
    waitpid(server, nullptr, 0);
    close(sp[0]);
    r.detail = "server did not start: " + text;
    return r;
  }
  const double server_cpu0 = proc_cpu_seconds(server);
  const auto t0 = Clock::now();
  std::vector<std::string> args{cli,     "client",  "--connect", "127.0.0.1:" + port, "--file", file, "--count",
                                std::to_string(count), "--timeout", "120s", "-q"};
  if (upload) args.push_back("--upload");
  const pid_t client = spawn_with_stdout(args, open("/dev/null", O_WRONLY | O_CLOEXEC));
  int status = 0;
  struct rusage ru {};
  while (wait4(client, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.wall = seconds_between(t0, Clock::now());
  r.server_cpu = proc_cpu_seconds(server) - server_cpu0;
  r.client_cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  close(sp[0]);
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!r.ok) r.detail = "client exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return r;
}

/// Plain TCP over loopback: one thread writes `total` bytes in 256 KiB writes, the other
/// reads them; seconds from connect to the last byte read.
double plain_tcp_copy(size_t total) {
  const int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 1) != 0 ||
      getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("plain TCP listener: ") + std::strerror(errno));
  size_t got = 0;
  std::thread reader([&] {
    const int c = accept(ls, nullptr, nullptr);
    std::vector<char> b(256 * 1024);
    for (ssize_t n; c >= 0 && (n = read(c, b.data(), b.size())) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (c >= 0) close(c);
  });
  const auto t0 = Clock::now();
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(ls);
    reader.detach();
    throw std::runtime_error(std::string("plain TCP connect: ") + std::strerror(errno));
  }
  std::vector<char> b(256 * 1024, 'x');
  for (size_t sent = 0; sent < total;) {
    const ssize_t n = write(s, b.data(), std::min(b.size(), total - sent));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    sent += static_cast<size_t>(n);
  }
  close(s);
  reader.join();
  const double secs = seconds_between(t0, Clock::now());
  close(ls);
  if (got != total) throw std::runtime_error("plain TCP copy lost bytes");
  return secs;
}

}  // namespace

void bench_socket(const Options& o, Rows& rows) {
  Row up, echo;
  up.group = echo.group = "socket";
  up.name = "socket mode: 1 GB upload through the full stack, app data";
  echo.name = "socket mode: POST + echo through the full stack, app data";
  up.unit = echo.unit = "Gbit/s";
  if (o.cli.empty() || !fs::exists(o.cli)) {
    up.note = echo.note = "skipped: the megzawicol binary was not found (--cli PATH)";
    rows.push_back(up);
    rows.push_back(echo);
    return;
  }
  const size_t count = o.quick ? 8 : 125;  // 64 MB or 1 GB of request bodies
  const double total = static_cast<double>(count * kBody);
  const fs::path dir = fs::temp_directory_path() / ("mzb-socket-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "body.txt").string();
  {
    // Printable text: the client sends the file as the JSON "message" string.
    mz::Rng rng(7);
    std::string body(kBody, 'a');
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + rng.uniform_int(0, 25));
    std::ofstream(file, std::ios::binary) << body;
  }
  struct Series {
    std::vector<double> rates, ratios;
    SocketRun last;
  } s_up, s_echo;
  std::vector<double> plain_rates;
  const int reps = o.quick ? 1 : o.run_reps;
  for (int i = 0; i < reps; ++i) {
    std::fprintf(stderr, "  socket mode: %zu x 8 MB upload ...\n", count);
    s_up.last = run_socket_mode(o.cli, file, count, true);
    std::fprintf(stderr, "  socket mode: %zu x 8 MB POST + echo ...\n", count);
    s_echo.last = run_socket_mode(o.cli, file, count, false);
    if (!s_up.last.ok || !s_echo.last.ok) break;
    const double theirs = total * 8 / plain_tcp_copy(count * kBody) / 1e9;
    plain_rates.push_back(theirs);
    for (Series* se : {&s_up, &s_echo}) {
      const double ours = total * 8 / se->last.wall / 1e9;
      se->rates.push_back(ours);
      se->ratios.push_back(ours / theirs);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  auto fill = [&](Row& r, const Series& se, const char* what) {
    if (!se.last.ok || se.rates.empty()) {
      r.note = "failed: " + (se.last.ok ? std::string("the other run failed") : se.last.detail);
      return;
    }
    r.runs = se.rates;
    r.value = median(se.rates);
    r.reference = median(plain_rates);
    r.reference_label = "plain TCP copy";
    char note[320];
    std::snprintf(note, sizeof note,
                  "%.0f MB of request bodies, %s; last run %.2f s, CPU client %.2f s + server %.2f s; "
                  "targets >= 1 Gbit/s and >= 0.25x plain TCP",
                  total / 1e6, what, se.last.wall, se.last.client_cpu, se.last.server_cpu);
    r.note = note;
    r.extra["bytes"] = total;
    r.extra["ratio_runs"] = se.ratios;
    r.extra["client_cpu_s"] = se.last.client_cpu;
    r.extra["server_cpu_s"] = se.last.server_cpu;
  };
  fill(up, s_up, "one way, acknowledged with length + CRC-32");
  fill(echo, s_echo, "echoed back");
  rows.push_back(up);
  rows.push_back(echo);
  if (plain_rates.empty()) return;

  Row p;
  p.group = "socket";
  p.name = "plain TCP copy over loopback (same bytes, one way)";
  p.unit = "Gbit/s";
  p.runs = plain_rates;
  p.value = median(plain_rates);
  p.note = "256 KiB write/read loop, two threads";
  rows.push_back(p);
}

}  // namespace mzb
