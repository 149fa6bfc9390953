// megzawicol: the command line.
//
//   megzawicol run FILE [--set PATH=VALUE]... [--seed N] [--out DIR] [--until T] [--quiet] [--verbose]
//   megzawicol validate FILE [--set PATH=VALUE]...
//   megzawicol trace summary|filter|diff ...   (inspect a run's traces; see inspect/cli.hpp)
//   megzawicol plot DIR [--out PLOTDIR]
//   megzawicol sweep FILE --vary PATH=v1,v2,... --seeds 1-20 ...   (see sweep/sweep.hpp)
//   megzawicol server [--listen ADDR:PORT] ...   (socket mode: see io/socket_mode.hpp)
//   megzawicol client [--connect ADDR:PORT] ...
//   megzawicol report DIR [--out FILE]
//
// Exit status: 0 success, 1 run-time failure (e.g. an output file cannot be written),
// 2 bad input (usage, or an invalid scenario: nothing is written then).
#include <malloc.h>

#include <boost/program_options.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
#include <vector>

#include "megzawicol/inspect/cli.hpp"
#include "megzawicol/io/socket_mode.hpp"
#include "megzawicol/report/html.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"
#include "megzawicol/sweep/sweep.hpp"

namespace po = boost::program_options;
using namespace mz;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;
constexpr const char* kVersion = "megzawicol 0.1.0";

void print_usage(std::ostream& os) {
  os << "Megzawicol: a seven-layer network stack on a discrete-event simulator.\n\n"
        "Usage:\n"
        "  megzawicol run FILE [options]        run a scenario, write traces to --out DIR\n"
        "  megzawicol validate FILE [options]   check a scenario and exit\n"
        "  megzawicol trace summary DIR         what happened in a run (--json for JSON)\n"
        "  megzawicol trace filter DIR [opts]   the events matching --node/--layer/--event/--from/--to/--grep\n"
        "  megzawicol trace diff DIR1 DIR2      the first event where two runs differ\n"
        "  megzawicol plot DIR [--out PLOTDIR]  SVG plots of a run's TCP flows and throughput\n"
        "  megzawicol sweep FILE --vary P=a,b   run a grid of values x --seeds in parallel; CSV, stats, plot\n"
        "  megzawicol server [options]          socket mode: serve the stack on a real TCP port\n"
        "  megzawicol client [options]          socket mode: one HTTPS-like exchange with a server\n"
        "  megzawicol report DIR [--out FILE]   the run as a ladder diagram in one HTML file\n"
        "  megzawicol COMMAND --help            options of a command\n"
        "  megzawicol --version\n\n"
        "Exit status: 0 success, 1 run-time failure, 2 bad input (usage or scenario).\n";
}

struct Common {
  std::string file;
  std::vector<std::string> sets;
  std::string seed;
};

po::options_description scenario_options(Common& c) {
  po::options_description d("Scenario options");
  d.add_options()("set", po::value(&c.sets)->composing(),
                  "override a scenario value: PATH=VALUE, e.g. --set links[0].loss=0.1 (repeatable)")(
      "seed", po::value(&c.seed), "random seed (same as --set seed=N)");
  return d;
}

std::vector<std::string> overrides(const Common& c) {
  std::vector<std::string> o = c.sets;
  if (!c.seed.empty()) o.push_back("seed=" + c.seed);
  return o;
}

int cmd_validate(const std::vector<std::string>& args) {
  Common c;
  bool help = false;
  po::options_description d = scenario_options(c);
  d.add_options()("help,h", po::bool_switch(&help), "show this help");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&c.file));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    std::cout << "Usage: megzawicol validate FILE [options]\n\nChecks FILE and prints what it describes.\n\n" << d;
    return kExitOk;
  }
  if (c.file.empty()) throw po::error("validate: missing scenario FILE");
  auto sc = scenario::load_scenario_file(c.file, overrides(c));
  std::cout << c.file << ": ok: scenario \"" << sc.name << "\", " << sc.nodes.size() << " nodes, " << sc.links.size()
            << " links, " << sc.apps.size() << " apps, seed " << sc.seed << ", duration " << format_duration(sc.duration)
            << "\n";
  return kExitOk;
}

int cmd_run(const std::vector<std::string>& args) {
  Common c;
  bool help = false, quiet = false, verbose = false;
  std::string out, until;
  po::options_description d = scenario_options(c);
  d.add_options()("out,o", po::value(&out), "output directory (default: out/<scenario name>)")(
      "until", po::value(&until), "stop at this virtual time (e.g. 2.5s), overriding the duration")(
      "quiet,q", po::bool_switch(&quiet), "print nothing but errors")(
      "verbose,v", po::bool_switch(&verbose), "also print every trace event (the trace.log lines)")(
      "help,h", po::bool_switch(&help), "show this help");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&c.file));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    std::cout << "Usage: megzawicol run FILE [options]\n\n"
                 "Runs the scenario and writes trace.log, trace.jsonl, one pcap per interface and\n"
                 "summary.json into the output directory.\n\n"
              << d;
    return kExitOk;
  }
  if (c.file.empty()) throw po::error("run: missing scenario FILE");
  auto sc = scenario::load_scenario_file(c.file, overrides(c));
  sim::RunOptions opts;
  opts.out_dir = out.empty() ? (std::filesystem::path("out") / sc.name).string() : out;
  if (!until.empty()) {
    try {
      opts.until = Time::zero() + scenario::parse_duration(until);
    } catch (const std::exception& e) {
      throw po::error("--until: " + std::string(e.what()) + ": \"" + until + "\"");
    }
  }
  opts.console = quiet ? nullptr : &std::cout;
  opts.echo_trace = verbose && !quiet;
  sim::Simulation simulation(sc, opts);
  simulation.run();
  if (!quiet) {
    std::cout << "\nsimulated " << format_time(simulation.now()) << " s in " << simulation.events_executed()
              << " events; traces in " << opts.out_dir << "/\n";
  }
  return kExitOk;
}

// ---- socket mode

std::array<uint8_t, 32> parse_key(const std::string& opt, const std::string& hex) {
  Bytes b;
  if (!from_hex(hex, b) || b.size() != 32) throw po::error(opt + ": expected 64 hex digits (32 bytes)");
  std::array<uint8_t, 32> k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

Duration parse_dur(const std::string& opt, const std::string& v) {
  try {
    return scenario::parse_duration(v);
  } catch (const std::exception& e) {
    throw po::error(opt + ": " + e.what() + ": \"" + v + "\"");
  }
}

struct CommonArgs {
  double loss = 0, ber = 0;
  uint32_t mtu = 1500;
  std::string delay, seed, client_addr = "192.168.1.10/24", server_addr = "192.168.1.20/24";
  bool quiet = false, keylog = false, help = false;
  std::string out;
};

void add_common(po::options_description& d, CommonArgs& a) {
  d.add_options()("loss", po::value(&a.loss), "probability of dropping each frame we send (0..1)")(
      "ber", po::value(&a.ber), "bit error rate on the line bits we send")(
      "mtu", po::value(&a.mtu), "IP MTU of the virtual interface (both ends should use the same; default 1500)")(
      "delay", po::value(&a.delay), "hold every frame this long before writing it (e.g. 20ms)")(
      "seed", po::value(&a.seed), "seed for --loss/--ber (default: from the OS RNG)")(
      "client-addr", po::value(&a.client_addr), "virtual client address (default 192.168.1.10/24)")(
      "server-addr", po::value(&a.server_addr), "virtual server address (default 192.168.1.20/24)")(
      "quiet,q", po::bool_switch(&a.quiet), "no per-layer lines, only the [Client]/[Server] lines")(
      "out,o", po::value(&a.out), "write trace.log, trace.jsonl and a pcap of the virtual interface here")(
      "keylog", po::bool_switch(&a.keylog), "with --out: also write keylog.txt (TLS secrets, mode 0600)")(
      "help,h", po::bool_switch(&a.help), "show this help");
}

void fill_common(const CommonArgs& a, io::CommonOptions& o) {
  if (!(a.loss >= 0 && a.loss <= 1)) throw po::error("--loss: must be in [0, 1]");
  if (!(a.ber >= 0 && a.ber <= 1)) throw po::error("--ber: must be in [0, 1]");
  if (a.mtu < 576 || a.mtu > 9000) throw po::error("--mtu: must be in 576..9000");
  o.link.loss = a.loss;
  o.link.ber = a.ber;
  o.link.mtu = a.mtu;
  if (!a.delay.empty()) o.link.delay = parse_dur("--delay", a.delay);
  if (!a.seed.empty()) {
    try {
      o.link.seed = std::stoull(a.seed);
    } catch (const std::exception&) {
      throw po::error("--seed: not a number: \"" + a.seed + "\"");
    }
  }
  auto cidr = [](const char* opt, const std::string& v) {
    auto c = Ipv4Cidr::parse(v);
    if (!c) throw po::error(std::string(opt) + ": not ADDRESS/PREFIX: \"" + v + "\"");
    return *c;
  };
  o.client_addr = cidr("--client-addr", a.client_addr);
  o.server_addr = cidr("--server-addr", a.server_addr);
  o.quiet = a.quiet;
  o.out_dir = a.out;
  o.keylog = a.keylog;
  if (a.keylog && a.out.empty()) throw po::error("--keylog needs --out DIR");
}

constexpr const char* kSocketExits =
    "\nExit status: 0 ok, 1 failure, 2 bad usage, 3 connection refused, 4 TLS handshake\n"
    "failure (e.g. pinned key mismatch), 5 timeout, 6 echoed message (or upload count/CRC-32) differs.\n";

// Socket mode moves bodies of up to 16 MiB through every layer. glibc serves allocations
// above its mmap threshold with fresh mappings, so each such buffer costs page faults and
// zeroed pages when touched and an munmap when freed (a fifth of the CPU time). Keep them
// on the heap and keep freed memory for the next message instead: resident memory then
// stays at its high-water mark, which the server's limits bound.
void keep_large_buffers() {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
}

int cmd_server(const std::vector<std::string>& args) {
  CommonArgs c;
  io::ServerOptions o;
  std::string idle = "30s", key;
  po::options_description d("Server options");
  d.add_options()("listen", po::value(&o.listen), "ADDRESS:PORT to listen on (default 127.0.0.1:65432; port 0: any)")(
      "max-clients", po::value(&o.max_clients), "refuse connections beyond this many (default 256)")(
      "idle-timeout", po::value(&idle), "close a connection silent this long (default 30s)")(
      "key", po::value(&key), "Ed25519 private key, 64 hex digits (default: the built-in demo key)");
  add_common(d, c);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).run(), vm);
  po::notify(vm);
  if (c.help) {
    std::cout << "Usage: megzawicol server [options]\n\nServes the HTTP echo over TLS over the whole simulated "
                 "stack on a real TCP socket,\none virtual host per client, until SIGINT or SIGTERM.\n\n"
              << d << kSocketExits;
    return kExitOk;
  }
  fill_common(c, o);
  o.idle_timeout = parse_dur("--idle-timeout", idle);
  if (!key.empty()) o.key = parse_key("--key", key);
  if (o.max_clients == 0) throw po::error("--max-clients: must be at least 1");
  keep_large_buffers();
  return io::run_server(o);
}

int cmd_client(const std::vector<std::string>& args) {
  CommonArgs c;
  io::ClientOptions o;
  std::string timeout = "30s", pin, message, file;
  po::options_description d("Client options");
  d.add_options()("connect", po::value(&o.connect), "server ADDRESS:PORT (default 127.0.0.1:65432)")(
      "message", po::value(&message), "the message to send (default \"Hello, server!\")")(
      "file", po::value(&file), "send this file's bytes as an application/octet-stream body (any content; the server echoes it verbatim)")(
      "upload", po::bool_switch(&o.upload),
      "with --file: a one-way upload; the server consumes the body and answers with its byte count and CRC-32, "
      "which must match the file's")(
      "count", po::value(&o.count), "requests on the connection (default 1)")(
      "timeout", po::value(&timeout), "give up after this long without an answer (default 30s)")(
      "pin", po::value(&pin), "the server's Ed25519 public key, 64 hex digits (default: the demo key's)")(
      "tamper", po::bool_switch(&o.tamper), "test aid: corrupt the first TLS record after the handshake")(
      "corrupt-body", po::bool_switch(&o.corrupt_body),
      "test aid: flip one bit of the first request body before HTTP (with --file; the check must fail)");
  add_common(d, c);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(d).run(), vm);
  po::notify(vm);
  if (c.help) {
    std::cout << "Usage: megzawicol client [options]\n\nConnects to a megzawicol server, runs the TLS 1.3 "
                 "handshake, POSTs the message\nthrough all seven layers, checks the echo and exits. With "
                 "--file F --upload the file\ngoes one way only and the server's byte count and CRC-32 are "
                 "checked instead.\n\n"
              << d << kSocketExits;
    return kExitOk;
  }
  fill_common(c, o);
  if (!message.empty() && !file.empty()) throw po::error("--message and --file are exclusive");
  if (!message.empty()) o.message = message;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file + ": cannot read file");
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (!ec) o.message.reserve(size);
    o.message.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    o.raw = true;
  }
  if (o.upload && file.empty()) throw po::error("--upload needs --file PATH");
  if (o.corrupt_body && (file.empty() || o.message.empty())) throw po::error("--corrupt-body needs a non-empty --file");
  if (o.count == 0) throw po::error("--count: must be at least 1");
  o.timeout = parse_dur("--timeout", timeout);
  if (!pin.empty()) o.pin = parse_key("--pin", pin);
  keep_large_buffers();
  return io::run_client(o);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << kVersion << "\n";
    return kExitOk;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "trace") return inspect::trace_command(args, std::cout, std::cerr);
  if (cmd == "plot") return inspect::plot_command(args, std::cout, std::cerr);
  if (cmd == "report") return report::report_command(args, std::cout, std::cerr);
  if (cmd == "sweep") return sweep::sweep_command(args, std::cout, std::cerr);
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "server") return cmd_server(args);
    if (cmd == "client") return cmd_client(args);
    std::cerr << "megzawicol: unknown command \"" << cmd << "\"\n\n";
    print_usage(std::cerr);
    return kExitBadInput;
  } catch (const scenario::ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return kExitBadInput;
  } catch (const po::error& e) {
    std::cerr << "megzawicol " << cmd << ": " << e.what() << " (see megzawicol " << cmd << " --help)\n";
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "megzawicol " << cmd << ": error: " << e.what() << "\n";
    return kExitFailure;
  }
}
