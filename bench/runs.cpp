// Whole runs: the end-to-end scenarios (scenarios/bench/: each bulk case raw and with TLS,
// and the http app), the generated scale topologies and the socket-mode check.
//
// Each run is a separate process (this binary re-executed with --child-run) so that its peak
// resident set size can be read from wait4()'s rusage; the child times loading, building and
// running itself with steady_clock and reports on stdout as one JSON object.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "bench.hpp"
#include "megzawicol/core/rng.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

namespace fs = std::filesystem;

namespace mzb {

// ----------------------------------------------------------------------------- child side

namespace {
/// VmHWM of this process (its own address space since exec) in MB; 0 if unknown. The
/// parent's wait4() ru_maxrss would also count the pages the child shared with the parent
/// between fork and exec, which makes it report the parent's size for small runs.
double peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return 0;
}
}  // namespace

int child_run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "--child-run FILE [--set PATH=VALUE]...\n";
    return 2;
  }
  std::vector<std::string> sets;
  for (size_t i = 1; i + 1 < args.size(); i += 2)
    if (args[i] == "--set") sets.push_back(args[i + 1]);
  try {
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    mz::scenario::Scenario sc = mz::scenario::load_scenario_file(args[0], sets);
    const auto t1 = Clock::now();
    const double c1 = cpu_seconds();
    mz::sim::RunOptions opts;  // no out dir: no trace files; no console
    mz::sim::Simulation sim(sc, opts);
    const auto t2 = Clock::now();
    const double c2 = cpu_seconds();
    sim.run();
    const auto t3 = Clock::now();
    const double c3 = cpu_seconds();

    // Application bytes: what the bulk receivers got, and the http request bodies answered.
    const auto summary = nlohmann::json::parse(sim.summary_json());
    uint64_t app_bytes = 0, flows = 0, flows_ok = 0, http_responses = 0;
    for (const auto& a : summary["apps"]) {
      const std::string kind = a.value("kind", "");
      if (kind == "bulk_receiver") {
        app_bytes += a.value("bytes_received", uint64_t{0});
      } else if (kind == "bulk") {
        ++flows;
        if (a.value("result", "") == "ok") ++flows_ok;
      } else if (kind == "http") {
        ++flows;
        if (a.value("result", "") == "ok") ++flows_ok;
        const uint64_t responses = a.value("responses", uint64_t{0});
        http_responses += responses;
        for (const auto& app : sc.apps)
          if (app.name == a.value("name", "")) app_bytes += responses * app.message.size();
      }
    }
    nlohmann::ordered_json out;
    out["vm_hwm_mb"] = peak_rss_mb();
    out["load_s"] = seconds_between(t0, t1);
    out["build_s"] = seconds_between(t1, t2);
    out["run_s"] = seconds_between(t2, t3);
    out["load_cpu_s"] = c1 - c0;
    out["build_cpu_s"] = c2 - c1;
    out["run_cpu_s"] = c3 - c2;
    out["events"] = sim.events_executed();
    out["sim_time_s"] = sim.now().to_seconds();
    out["app_bytes"] = app_bytes;
    out["flows"] = flows;
    out["flows_ok"] = flows_ok;
    out["http_responses"] = http_responses;
    out["nodes"] = sc.nodes.size();
    out["links"] = sc.links.size();
    std::cout << out.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "child run: " << e.what() << "\n";
    return 1;
  }
}

// ---------------------------------------------------------------------------- parent side

namespace {

struct RunResult {
  nlohmann::json child;   // the child's report
  double process_s = 0;   // fork to exit, as seen by the parent
  double max_rss_mb = 0;  // wait4() ru_maxrss of the child (includes the pre-exec pages)
};

/// Runs argv (argv[0] is the program) with stdout captured; returns its output and rusage.
RunResult spawn(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    std::fprintf(stderr, "exec %s: %s\n", a[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  RunResult r;
  r.process_s = seconds_between(t0, Clock::now());
  r.max_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("child run failed: " + (argv.size() > 2 ? argv[2] : std::string("?")));
  r.child = nlohmann::json::parse(out);
  return r;
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

std::string mb(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MB", bytes / 1e6);
  return b;
}

/// Runs `file` `reps` times; returns the rows (wall, app MB/s, peak RSS) with medians.
struct Measured {
  std::vector<double> wall, run, load, build, cpu, run_cpu, load_build_cpu, rss, rusage_rss, events, app_bytes, sim_time, flows_ok, flows;
};

Measured measure_runs(const Options& o, const std::string& file, const std::vector<std::string>& sets, int reps) {
  Measured m;
  for (int i = 0; i < reps; ++i) {
    std::vector<std::string> argv{self_exe(), "--child-run", file};
    for (const auto& s : sets) {
      argv.push_back("--set");
      argv.push_back(s);
    }
    RunResult r = spawn(argv);
    const auto& c = r.child;
    const double load = c["load_s"], build = c["build_s"], run = c["run_s"];
    m.load.push_back(load);
    m.build.push_back(build);
    m.run.push_back(run);
    m.wall.push_back(load + build + run);
    const double lc = c["load_cpu_s"], bc = c["build_cpu_s"], rc = c["run_cpu_s"];
    m.cpu.push_back(lc + bc + rc);
    m.run_cpu.push_back(rc);
    m.load_build_cpu.push_back(lc + bc);
    m.rss.push_back(c["vm_hwm_mb"].get<double>() > 0 ? c["vm_hwm_mb"].get<double>() : r.max_rss_mb);
    m.rusage_rss.push_back(r.max_rss_mb);
    m.events.push_back(c["events"].get<double>());
    m.app_bytes.push_back(c["app_bytes"].get<double>());
    m.sim_time.push_back(c["sim_time_s"].get<double>());
    m.flows.push_back(c["flows"].get<double>());
    m.flows_ok.push_back(c["flows_ok"].get<double>());
  }
  (void)o;
  return m;
}

}  // namespace

// ------------------------------------------------------------------------------ end to end

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void bench_end_to_end(const Options& o, Rows& rows) {
  enum class Traffic { Raw, BulkTls, Http };
  struct Case {
    std::string id, title, file;
    std::vector<std::string> quick_sets;  // --quick: a smaller transfer
    std::optional<double> ns3_wall_s;
    std::optional<double> ns3_rss_mb;
    std::string ns3_note;
    Traffic traffic = Traffic::Raw;
    std::string raw_id;  // a TLS variant: the id of its raw run (run just before it)
  };
  // Each bulk case runs raw, then with "tls": true (same scenario otherwise): the ns-3
  // targets are for the encrypted runs, so both rows carry them.
  const std::vector<Case> cases = {
      {"a", "(a) bulk 100 MB, 1 Gbit/s 1 ms", "bulk-100mb-1g.json", {"apps[0].bytes=10MB"}, 1.2, std::nullopt,
       "ns-3: 1.2 s"},
      {"a-tls", "(a) bulk 100 MB, 1 Gbit/s 1 ms with TLS", "bulk-100mb-1g-tls.json", {"apps[0].bytes=10MB"}, 1.2,
       std::nullopt, "ns-3: 1.2 s", Traffic::BulkTls, "a"},
      {"b", "(b) bulk 10 MB, 10 Mbit/s 5 ms", "bulk-10mb-10m.json", {"apps[0].bytes=2MB"}, 0.145, 18.0,
       "ns-3: 0.13-0.16 s, 18 MB RSS"},
      {"b-tls", "(b) bulk 10 MB, 10 Mbit/s 5 ms with TLS", "bulk-10mb-10m-tls.json", {"apps[0].bytes=2MB"}, 0.145, 18.0,
       "ns-3: 0.13-0.16 s, 18 MB RSS", Traffic::BulkTls, "b"},
      {"c", "(c) 32-router chain, 10 MB, 100 Mbit/s 1 ms/hop", "chain-32.json", {"apps[0].bytes=2MB"}, 1.5,
       std::nullopt, "ns-3: 1.5 s"},
      {"c-tls", "(c) 32-router chain, 10 MB, 100 Mbit/s 1 ms/hop with TLS", "chain-32-tls.json", {"apps[0].bytes=2MB"},
       1.5, std::nullopt, "ns-3: 1.5 s", Traffic::BulkTls, "c"},
      {"d", "(d) http over TLS 1.3, 160 x 64 KiB POST + echo, 10 Mbit/s 5 ms", "http-tls-10mb.json",
       {"apps[0].requests=16"}, std::nullopt, std::nullopt, "no ns-3 figure", Traffic::Http},
  };
  std::map<std::string, std::pair<double, double>> raw_wall_cpu;  // id -> (wall, CPU) medians
  for (const Case& c : cases) {
    const std::string file = (fs::path(o.scenario_dir) / c.file).string();
    std::fprintf(stderr, "  end to end %s (%s) ...\n", c.id.c_str(), c.file.c_str());
    const int reps = o.quick ? 1 : o.run_reps;
    Measured m = measure_runs(o, file, o.quick ? c.quick_sets : std::vector<std::string>{}, reps);
    const double wall = median(m.wall);
    const double bytes = median(m.app_bytes);
    const double events = median(m.events);
    const double rss = median(m.rss);
    const std::string sizes = c.traffic == Traffic::Http      ? " (request bodies; the echo doubles the traffic)"
                              : c.traffic == Traffic::BulkTls ? " (decrypted and verified; TLS 1.3 over the session layer over TCP)"
                                                              : " (raw TCP, no TLS)";
    if (c.traffic == Traffic::Raw) raw_wall_cpu[c.id] = {wall, median(m.cpu)};
    std::string base = "e2e " + c.title;

    Row w;
    w.group = "e2e";
    w.name = base + ": wall";
    w.unit = "s";
    w.value = wall;
    w.runs = m.wall;
    w.lower_is_better = true;
    w.cpu_value = median(m.cpu);
    w.extra["cpu_runs"] = m.cpu;
    if (c.ns3_wall_s && !o.quick) {
      w.reference = *c.ns3_wall_s;
      w.reference_label = "ns-3";
    }
    char note[256];
    std::snprintf(note, sizeof note, "%.0f events, %.2f M events/s (CPU), %.1f s simulated, %.0f/%.0f flows ok%s",
                  events, events / median(m.run_cpu) / 1e6, median(m.sim_time), median(m.flows_ok), median(m.flows),
                  o.quick ? "; quick: smaller transfer, no ratio" : "");
    w.note = std::string(note) + (c.ns3_wall_s ? "" : "; " + c.ns3_note);
    if (auto it = raw_wall_cpu.find(c.raw_id); it != raw_wall_cpu.end() && it->second.first > 0 && it->second.second > 0) {
      // What TLS and the session layer cost over the same transfer in raw TCP.
      const double by_wall = wall / it->second.first, by_cpu = median(m.cpu) / it->second.second;
      std::snprintf(note, sizeof note, "; %.2fx the raw run's wall time (%.2fx its CPU time)", by_wall, by_cpu);
      w.note += note;
      w.extra["vs_raw_wall"] = by_wall;
      w.extra["vs_raw_cpu"] = by_cpu;
    }
    w.extra["file"] = "scenarios/bench/" + c.file;
    w.extra["load_s"] = median(m.load);
    w.extra["build_s"] = median(m.build);
    w.extra["run_s"] = median(m.run);
    w.extra["events"] = events;
    w.extra["app_bytes"] = bytes;
    w.extra["sim_time_s"] = median(m.sim_time);
    w.extra["tls"] = c.traffic != Traffic::Raw;
    rows.push_back(w);

    Row t;
    t.group = "e2e";
    t.name = base + ": app bytes / wall s";
    t.unit = "MB/s";
    t.value = bytes / wall / 1e6;
    t.cpu_value = bytes / median(m.cpu) / 1e6;
    for (size_t i = 0; i < m.wall.size(); ++i) t.runs.push_back(m.app_bytes[i] / m.wall[i] / 1e6);
    if (c.ns3_wall_s && !o.quick) {
      t.reference = bytes / *c.ns3_wall_s / 1e6;
      t.reference_label = "ns-3";
    }
    t.note = mb(bytes) + sizes;
    rows.push_back(t);

    Row r;
    r.group = "e2e";
    r.name = base + ": peak RSS";
    r.unit = "MB";
    r.value = rss;
    r.runs = m.rss;
    r.lower_is_better = true;
    if (c.ns3_rss_mb && !o.quick) {
      r.reference = *c.ns3_rss_mb;
      r.reference_label = "ns-3";
    }
    r.note = c.ns3_rss_mb ? "ns-3 18 MB" : "no ns-3 figure";
    r.note += "; VmHWM of the run's process";
    r.extra["rusage_maxrss_mb"] = median(m.rusage_rss);
    rows.push_back(r);
  }
}

// ----------------------------------------------------------------------------------- scale

// N routers in a ring, plus one chord from every router to a random other one (seeded), so the
// diameter grows like log N; one host behind every router on its own /24; N/2 bulk flows of
// 100 KB between random host pairs (every host in at most one flow), starting over the first
// second. Routers use "routes": "auto"; hosts a default route.
void write_scale_scenario(size_t n, const std::string& path) {
  if (n < 3 || n > 60000) throw std::runtime_error("scale: N must be in [3, 60000]");
  mz::Rng rng(2024 + n);
  nlohmann::ordered_json sc;
  sc["name"] = "scale-" + std::to_string(n);
  sc["description"] = "generated by megzawicol-bench: " + std::to_string(n) + " routers (ring + random chords), " +
                      std::to_string(n) + " hosts, " + std::to_string(n / 2) + " TCP flows of 100 KB";
  sc["seed"] = 1;
  sc["duration"] = "60s";
  auto lan = [](size_t i, int host) {  // 10.(i>>8).(i&255).{1,2}/24
    return "10." + std::to_string(i >> 8) + "." + std::to_string(i & 255) + "." + std::to_string(host);
  };
  auto p2p = [](size_t k, int end) {  // 100.64.0.0/10: /30 number k, .1 or .2
    const uint32_t a = (100u << 24) | (64u << 16) | static_cast<uint32_t>(4 * k + static_cast<size_t>(end));
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
  };
  // Router-router edges: the ring, then a chord from each router (no duplicates, no self).
  std::vector<std::pair<size_t, size_t>> edges;
  std::vector<std::vector<size_t>> adj(n);
  auto add_edge = [&](size_t a, size_t b) {
    if (a == b) return;
    for (size_t x : adj[a])
      if (x == b) return;
    adj[a].push_back(b);
    adj[b].push_back(a);
    edges.emplace_back(a, b);
  };
  for (size_t i = 0; i < n; ++i) add_edge(i, (i + 1) % n);
  for (size_t i = 0; i < n; ++i) add_edge(i, rng.uniform_int(0, n - 1));

  std::vector<nlohmann::ordered_json> router_ifaces(n);
  for (size_t i = 0; i < n; ++i) router_ifaces[i].push_back({{"name", "lan"}, {"address", lan(i, 1) + "/24"}});
  nlohmann::ordered_json links = nlohmann::ordered_json::array();
  for (size_t k = 0; k < edges.size(); ++k) {
    const auto [a, b] = edges[k];
    const std::string ia = "p" + std::to_string(router_ifaces[a].size());
    const std::string ib = "p" + std::to_string(router_ifaces[b].size());
    router_ifaces[a].push_back({{"name", ia}, {"address", p2p(k, 1) + "/30"}});
    router_ifaces[b].push_back({{"name", ib}, {"address", p2p(k, 2) + "/30"}});
    links.push_back({{"ends", {"r" + std::to_string(a) + ":" + ia, "r" + std::to_string(b) + ":" + ib}},
                     {"bandwidth", "100Mbps"},
                     {"delay", "1ms"}});
  }
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (size_t i = 0; i < n; ++i)
    nodes.push_back({{"name", "r" + std::to_string(i)}, {"kind", "router"}, {"routes", "auto"},
                     {"interfaces", router_ifaces[i]}});
  for (size_t i = 0; i < n; ++i) {
    nodes.push_back({{"name", "h" + std::to_string(i)},
                     {"interfaces", {{{"name", "eth0"}, {"address", lan(i, 2) + "/24"}}}},
                     {"routes", {{{"to", "default"}, {"via", lan(i, 1)}}}}});
    links.push_back({{"ends", {"h" + std::to_string(i) + ":eth0", "r" + std::to_string(i) + ":lan"}},
                     {"bandwidth", "100Mbps"},
                     {"delay", "1ms"}});
  }
  // Flows: a seeded shuffle of the hosts, paired up.
  std::vector<size_t> hosts(n);
  for (size_t i = 0; i < n; ++i) hosts[i] = i;
  for (size_t i = n - 1; i > 0; --i) std::swap(hosts[i], hosts[rng.uniform_int(0, i)]);
  nlohmann::ordered_json apps = nlohmann::ordered_json::array();
  for (size_t f = 0; f + 1 < n && f / 2 < n / 2; f += 2) {
    char start[32];
    std::snprintf(start, sizeof start, "%lluus", static_cast<unsigned long long>(rng.uniform_int(0, 999999)));
    apps.push_back({{"kind", "bulk"}, {"name", "f" + std::to_string(f / 2)}, {"node", "h" + std::to_string(hosts[f])},
                    {"target", "h" + std::to_string(hosts[f + 1])}, {"bytes", "100KB"}, {"start", start}});
  }
  sc["nodes"] = std::move(nodes);
  sc["links"] = std::move(links);
  sc["apps"] = std::move(apps);
  sc["trace"] = {{"log", false}, {"jsonl", false}, {"pcap", false}, {"summary", false}, {"l1_bits", false}};
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << sc.dump(1) << "\n";
}

void bench_scale(const Options& o, Rows& rows) {
  std::vector<size_t> sizes = {100, 1000};
  if (o.large) sizes.push_back(10000);
  const fs::path dir = fs::temp_directory_path() / ("megzawicol-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  struct Point {
    size_t n;
    double load, build, run, rss, events, lb_cpu, run_cpu;
  };
  std::vector<Point> points;
  for (size_t n : sizes) {
    const std::string file = (dir / ("scale-" + std::to_string(n) + ".json")).string();
    write_scale_scenario(n, file);
    std::fprintf(stderr, "  scale N=%zu (%s) ...\n", n, file.c_str());
    const int reps = (o.quick || n >= 10000) ? 1 : o.run_reps;
    Measured m = measure_runs(o, file, {}, reps);
    Point p{n,           median(m.load),           median(m.build),  median(m.run),
            median(m.rss), median(m.events), median(m.load_build_cpu), median(m.run_cpu)};
    points.push_back(p);
    const std::string base = "scale N=" + std::to_string(n) + " routers + " + std::to_string(n) + " hosts, " +
                             std::to_string(n / 2) + " flows";
    char note[256];
    std::snprintf(note, sizeof note, "load %.3f s + build (auto routes) %.3f s; %.0f/%.0f flows ok",
                  p.load, p.build, median(m.flows_ok), median(m.flows));
    Row b;
    b.group = "scale";
    b.name = base + ": load+build";
    b.unit = "s";
    b.value = p.load + p.build;
    for (size_t i = 0; i < m.load.size(); ++i) b.runs.push_back(m.load[i] + m.build[i]);
    b.lower_is_better = true;
    b.cpu_value = p.lb_cpu;
    b.note = note;
    b.extra["load_s"] = p.load;
    b.extra["build_s"] = p.build;
    rows.push_back(b);
    Row r;
    r.group = "scale";
    r.name = base + ": run";
    r.unit = "s";
    r.value = p.run;
    r.runs = m.run;
    r.lower_is_better = true;
    r.cpu_value = p.run_cpu;
    std::snprintf(note, sizeof note, "%.0f events, %.2f M events/s (CPU), %.1f s simulated", p.events,
                  p.events / p.run_cpu / 1e6,
                  median(m.sim_time));
    r.note = note;
    r.extra["events"] = p.events;
    rows.push_back(r);
    Row mem;
    mem.group = "scale";
    mem.name = base + ": peak RSS";
    mem.unit = "MB";
    mem.value = p.rss;
    mem.runs = m.rss;
    mem.lower_is_better = true;
    mem.note = "VmHWM of the run's process";
    rows.push_back(mem);
  }
  // Growth factors between consecutive sizes (10x more nodes each time).
  for (size_t i = 1; i < points.size(); ++i) {
    const Point& a = points[i - 1];
    const Point& b = points[i];
    Row g;
    g.group = "scale";
    g.name = "scale growth N=" + std::to_string(a.n) + " -> " + std::to_string(b.n);
    g.unit = "x";
    g.value = (b.load + b.build) / (a.load + a.build);
    g.cpu_value = b.lb_cpu / a.lb_cpu;
    char note[256];
    std::snprintf(note, sizeof note,
                  "CPU time: load+build x%.1f, run x%.1f; events x%.1f, peak RSS x%.1f (nodes x%.0f)",
                  b.lb_cpu / a.lb_cpu, b.run_cpu / a.run_cpu, b.events / a.events, b.rss / a.rss,
                  static_cast<double>(b.n) / static_cast<double>(a.n));
    g.note = note;
    g.extra["load_build"] = g.value;
    g.extra["run"] = b.run / a.run;
    g.extra["load_build_cpu"] = b.lb_cpu / a.lb_cpu;
    g.extra["run_cpu"] = b.run_cpu / a.run_cpu;
    g.extra["events"] = b.events / a.events;
    g.extra["rss"] = b.rss / a.rss;
    rows.push_back(g);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace mzb
