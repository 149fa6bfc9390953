// megzawicol: the command line.
//
//   megzawicol run FILE [--set PATH=VALUE]... [--seed N] [--out DIR] [--until T] [--quiet] [--verbose]
//   megzawicol validate FILE [--set PATH=VALUE]...
//   megzawicol trace summary|filter|diff ...   (inspect a run's traces; see inspect/cli.hpp)
//   megzawicol plot DIR [--out PLOTDIR]
//   megzawicol report DIR [--out FILE]
//
// Exit status: 0 success, 1 run-time failure (e.g. an output file cannot be written),
// 2 bad input (usage, or an invalid scenario: nothing is written then).
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "megzawicol/inspect/cli.hpp"
#include "megzawicol/report/html.hpp"
#include "megzawicol/scenario/scenario.hpp"
#include "megzawicol/sim/simulation.hpp"

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
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
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
