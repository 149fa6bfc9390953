#include "megzawicol/inspect/cli.hpp"

#include <boost/program_options.hpp>

#include <filesystem>

#include "megzawicol/inspect/filter.hpp"
#include "megzawicol/inspect/plot.hpp"
#include "megzawicol/inspect/summary.hpp"

namespace po = boost::program_options;

namespace mz::inspect {

namespace {

constexpr int kOk = 0, kFailure = 1, kBadInput = 2;

void trace_usage(std::ostream& os) {
  os << "Usage:\n"
        "  megzawicol trace summary DIR [--json]     events, drops, TCP flows and RTTs of a run\n"
        "  megzawicol trace filter DIR [options]     print the matching events (trace.log format)\n"
        "  megzawicol trace diff DIR1 DIR2           the first event where two runs differ\n"
        "  megzawicol trace COMMAND --help           options of a command\n\n"
        "DIR is a run's output directory (with trace.jsonl), or a trace.jsonl file.\n"
        "Exit status: 0 success (diff: identical), 1 the runs differ or a run-time failure,\n"
        "2 bad input (usage, a missing or malformed trace).\n";
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& visible,
                        const std::vector<std::string>& positional_names) {
  po::options_description hidden;
  for (const auto& n : positional_names) hidden.add_options()(n.c_str(), po::value<std::string>());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description pos;
  for (const auto& n : positional_names) pos.add(n.c_str(), 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

std::string positional(const po::variables_map& vm, const char* name, const std::string& what) {
  if (!vm.count(name)) throw po::error("missing " + what);
  return vm[name].as<std::string>();
}

int cmd_summary(const std::vector<std::string>& args, std::ostream& out) {
  bool json = false, help = false;
  po::options_description d("Options");
  d.add_options()("json", po::bool_switch(&json), "machine-readable JSON instead of text")(
      "help,h", po::bool_switch(&help), "show this help");
  auto vm = parse(args, d, {"dir"});
  if (help) {
    out << "Usage: megzawicol trace summary DIR [--json]\n\n"
           "Per node and layer: events, packets and bytes sent and delivered; drops by cause (from\n"
           "the trace, next to summary.json's counters); per TCP connection: bytes, retransmissions,\n"
           "timeouts, handshake time, goodput; RTT percentiles of ping replies and TCP samples.\n\n"
        << d;
    return kOk;
  }
  const RunSummary s = summarize(positional(vm, "dir", "run DIR"));
  if (json) out << summary_to_json(s).dump(2) << "\n";
  else out << format_summary_text(s);
  return kOk;
}

int cmd_filter(const std::vector<std::string>& args, std::ostream& out) {
  FilterSpec spec;
  bool help = false;
  std::vector<std::string> layers;
  std::string from, to;
  po::options_description d("Options (repeat --node, --layer or --event to match any of several values)");
  d.add_options()("node", po::value(&spec.nodes)->composing(), "only events of this node (\"-\" for the simulator's)")(
      "layer", po::value(&layers)->composing(), "only this layer: L1..L7 (or 1..7), link, sim")(
      "event", po::value(&spec.events)->composing(), "only this event name, e.g. retransmit, rx_frame")(
      "from", po::value(&from), "only events at or after this time, e.g. 1.5s, 200ms (a bare number is seconds)")(
      "to", po::value(&to), "only events at or before this time")(
      "grep", po::value(&spec.grep), "only events whose message contains TEXT")(
      "json", po::bool_switch(&spec.json), "print the trace.jsonl lines instead of trace.log lines")(
      "help,h", po::bool_switch(&help), "show this help");
  auto vm = parse(args, d, {"dir"});
  if (help) {
    out << "Usage: megzawicol trace filter DIR [options]\n\n"
           "Prints the events that match every option given, exactly as trace.log shows them.\n\n"
        << d;
    return kOk;
  }
  const std::string dir = positional(vm, "dir", "run DIR");
  for (const auto& l : layers) {
    trace::Layer layer;
    if (!trace::parse_layer(l, layer)) throw po::error("--layer: unknown layer \"" + l + "\" (L1..L7, 1..7, link, sim)");
    spec.layers.push_back(layer);
  }
  try {
    if (!from.empty()) spec.from_ns = parse_time_ns(from);
    if (!to.empty()) spec.to_ns = parse_time_ns(to);
  } catch (const InputError& e) {
    throw po::error(std::string(from.empty() || spec.from_ns ? "--to: " : "--from: ") + e.what());
  }
  filter_trace(dir, spec, out);
  return kOk;
}

int cmd_diff(const std::vector<std::string>& args, std::ostream& out) {
  bool help = false;
  po::options_description d("Options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help");
  auto vm = parse(args, d, {"dir1", "dir2"});
  if (help) {
    out << "Usage: megzawicol trace diff DIR1 DIR2\n\n"
           "Compares two runs event by event: the first event where they differ, both side by\n"
           "side, and the (layer, event) pairs whose counts differ. Exit status 0 if the traces\n"
           "are identical, 1 if they differ.\n\n"
        << d;
    return kOk;
  }
  const std::string a = positional(vm, "dir1", "DIR1 and DIR2"), b = positional(vm, "dir2", "DIR2");
  const DiffResult r = diff_traces(a, b);
  out << format_diff_text(r, a, b);
  return r.identical ? kOk : kFailure;
}

template <class F>
int guarded(const std::string& name, std::ostream& err, F&& f) {
  try {
    return f();
  } catch (const po::error& e) {
    err << "megzawicol " << name << ": " << e.what() << " (see megzawicol " << name << " --help)\n";
    return kBadInput;
  } catch (const InputError& e) {
    err << "megzawicol " << name << ": " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    err << "megzawicol " << name << ": error: " << e.what() << "\n";
    return kFailure;
  }
}

}  // namespace

int trace_command(const std::vector<std::string>& args0, std::ostream& out, std::ostream& err) {
  if (args0.empty()) {
    trace_usage(err);
    return kBadInput;
  }
  if (args0[0] == "--help" || args0[0] == "-h" || args0[0] == "help") {
    trace_usage(out);
    return kOk;
  }
  const std::string& sub = args0[0];
  const std::vector<std::string> args(args0.begin() + 1, args0.end());
  if (sub == "summary") return guarded("trace summary", err, [&] { return cmd_summary(args, out); });
  if (sub == "filter") return guarded("trace filter", err, [&] { return cmd_filter(args, out); });
  if (sub == "diff") return guarded("trace diff", err, [&] { return cmd_diff(args, out); });
  err << "megzawicol trace: unknown command \"" << sub << "\"\n\n";
  trace_usage(err);
  return kBadInput;
}

int plot_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded("plot", err, [&] {
    bool help = false;
    std::string out_dir;
    po::options_description d("Options");
    d.add_options()("out,o", po::value(&out_dir), "where to write the plots (default: DIR/plots)")(
        "help,h", po::bool_switch(&help), "show this help");
    auto vm = parse(args, d, {"dir"});
    if (help) {
      out << "Usage: megzawicol plot DIR [--out PLOTDIR]\n\n"
             "Draws self-contained SVG charts of a run: per TCP flow direction that carried data a\n"
             "time-sequence graph (tcp-seq-FLOW.svg), cwnd and ssthresh (cwnd-FLOW.svg), RTT, SRTT\n"
             "and RTO (rtt-FLOW.svg); throughput over time of every flow (throughput.svg); and an\n"
             "index.html that shows them all. FLOW is SRCADDR_PORT-DSTADDR_PORT.\n\n"
          << d;
      return kOk;
    }
    const std::string dir = positional(vm, "dir", "run DIR");
    if (out_dir.empty()) {
      namespace fs = std::filesystem;
      const fs::path base = fs::is_regular_file(dir) ? fs::path(dir).parent_path() : fs::path(dir);
      out_dir = (base / "plots").string();
    }
    const PlotResult r = plot_run(dir, out_dir);
    for (const auto& [name, title] : r.files) out << out_dir << "/" << name << "  " << title << "\n";
    out << r.index << "  (" << r.files.size() << " plot" << (r.files.size() == 1 ? "" : "s") << ")\n";
    return kOk;
  });
}

}  // namespace mz::inspect
