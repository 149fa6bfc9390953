// Child processes: fork/exec, at most `jobs` at once, every child reaped.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include "megzawicol/sweep/sweep.hpp"

namespace mz::sweep {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// Restores SIGINT/SIGTERM handling when the pool ends.
class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

int decode(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

}  // namespace

size_t available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<size_t>(n);
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

void run_children(const std::string& exe, const std::vector<std::vector<std::string>>& argvs,
                  const std::vector<std::string>& stderr_paths, size_t jobs,
                  const std::function<void(size_t, int)>& done) {
  if (jobs == 0) jobs = 1;
  SignalGuard guard;
  std::map<pid_t, size_t> running;
  size_t next = 0;
  auto reap_all = [&](bool terminate) {
    if (terminate)
      for (const auto& [pid, i] : running) kill(pid, SIGTERM);
    while (!running.empty()) {
      int st = 0;
      const pid_t pid = waitpid(running.begin()->first, &st, 0);
      if (pid < 0 && errno == EINTR) continue;
      running.erase(running.begin());
    }
  };
  try {
  while (next < argvs.size() || !running.empty()) {
    if (g_stop) {
      reap_all(true);
      throw std::runtime_error("interrupted: " + std::to_string(argvs.size() - next) + " runs not started");
    }
    while (next < argvs.size() && running.size() < jobs) {
      // Everything the child needs is prepared before fork (only async-signal-safe calls after).
      std::vector<char*> cargv;
      for (const auto& a : argvs[next]) cargv.push_back(const_cast<char*>(a.c_str()));
      cargv.push_back(nullptr);
      const char* errpath = stderr_paths[next].c_str();
      const pid_t pid = fork();
      if (pid < 0) {
        const int e = errno;
        reap_all(true);
        throw std::runtime_error(std::string("fork: ") + std::strerror(e));
      }
      if (pid == 0) {
        const int null = open("/dev/null", O_RDWR);
        const int err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null >= 0) {
          dup2(null, STDIN_FILENO);
          dup2(null, STDOUT_FILENO);
        }
        if (err >= 0) dup2(err, STDERR_FILENO);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(exe.c_str(), cargv.data());
        const char msg[] = "megzawicol sweep: exec failed\n";
        ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
      }
      running[pid] = next++;
    }
    int st = 0;
    const pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {  // someone else reaped our children: count them as failed
        for (const auto& [p, i] : running) done(i, 1);
        running.clear();
        continue;
      }
      const int e = errno;
      reap_all(true);
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(e));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const size_t i = it->second;
    running.erase(it);
    done(i, decode(st));
  }
  } catch (...) {
    reap_all(true);
    throw;
  }
}

}  // namespace mz::sweep
