// Helpers for the tests that run real `megzawicol` processes on loopback (tests/io, the
// soak): the binary's path, an output directory, child processes that are always reaped,
// and a raw TCP peer. Nothing here uses doctest assertions, so the soak's worker threads
// can use it too; callers check started() / ok().
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "megzawicol/core/bytes.hpp"
#include "megzawicol/l1/line_code.hpp"

namespace mz::testsupport {

using Clock = std::chrono::steady_clock;

inline std::string exe() { return std::string(MZ_BINARY_DIR) + "/sim/megzawicol"; }

/// An empty directory test-out/<area>/<name> under the build directory.
inline std::string fresh_dir(const std::string& area, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(MZ_BINARY_DIR) / "test-out" / area / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A child process (the megzawicol binary with `args`) whose stdout and stderr go to a file.
// The destructor kills (SIGKILL) and reaps it if it is still running.
class Child {
 public:
  Child(std::vector<std::string> args, std::string log) : log_(std::move(log)) {
    std::vector<char*> argv;
    args.insert(args.begin(), exe());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  /// The exit status (128 + signal if killed by one), or nullopt if still running after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (!status_ && pid_ > 0) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        break;
      }
      if (Clock::now() >= end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status_;
  }
  void signal(int sig) {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
  }
  std::string output() const { return slurp(log_); }
  /// Waits until the output contains `needle`; false after `limit`.
  bool wait_output(const std::string& needle, std::chrono::milliseconds limit) const {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      if (output().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return output().find(needle) != std::string::npos;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A raw TCP connection to 127.0.0.1:port (a hostile or garbage-sending peer); ok() tells
// whether it connected.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool ok() const { return fd_ >= 0; }
  /// False if the server has closed the connection.
  bool send_all(const std::vector<uint8_t>& b) {
    size_t off = 0;
    while (off < b.size()) {
      const ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  /// True if the server closes the connection within `limit` (whatever it sends first).
  bool closed_within(std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    char buf[4096];
    while (Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const int left =
          static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
      if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
};

/// `frame` as a line-coded burst (what a peer's L1 puts on the socket).
inline std::vector<uint8_t> line_coded(const std::vector<uint8_t>& frame) {
  mz::Bytes out;
  mz::l1::LineEncoder enc;
  enc.encode(mz::ByteView(frame.data(), frame.size()), out);
  return std::vector<uint8_t>(out.begin(), out.end());
}

}  // namespace mz::testsupport
