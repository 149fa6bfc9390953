// `megzawicol plot DIR`: self-contained SVG charts of a run's TCP flows.
//
// Per flow direction that carried data (named by its "src-dst" endpoints, ':' as '_'):
//   tcp-seq-<flow>.svg  time-sequence graph: every tx_segment of the sender (a vertical
//                       bar from seq to seq+len, a dot for segments without payload),
//                       retransmissions in red, the ACKs the sender received as a line
//   cwnd-<flow>.svg     cwnd and ssthresh over time
//   rtt-<flow>.svg      RTT samples, SRTT and RTO over time
// and throughput.svg (bytes delivered per time bin, per flow: TCP bytes acknowledged,
// UDP flow bytes received), plus index.html showing them all.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mz::inspect {

struct PlotResult {
  std::vector<std::pair<std::string, std::string>> files;  // file name, title
  std::string index;                                       // index.html's path
};

/// Reads DIR's trace and writes the plots into `out_dir` (created if needed). Throws
/// TraceError on a malformed trace, std::runtime_error if a file cannot be written.
PlotResult plot_run(const std::string& dir, const std::string& out_dir);

/// A simple chart, rendered as SVG (exposed for tests).
struct SvgSeries {
  enum class Kind { Line, Step, Points, Bars };
  std::string name;
  std::string color;
  Kind kind = Kind::Line;
  std::string css_class;  // class of each drawn element (points, bars)
  bool dashed = false;
  std::vector<std::pair<double, double>> xy;  // Line, Step, Points: (x, y); breaks at NaN y
  std::vector<std::pair<double, std::pair<double, double>>> bars;  // Bars: (x, (y0, y1))
};

struct SvgChart {
  std::string title;
  std::string subtitle;
  std::string x_label;  // with the unit, e.g. "time (s)"
  std::string y_label;
  std::vector<SvgSeries> series;
  /// Extra legend-only entries (e.g. a note), drawn after the series.
  std::vector<std::pair<std::string, std::string>> notes;  // (color, text)
  bool y_from_zero = true;
  std::string render() const;
};

/// XML text escaping (&, <, >, ").
std::string xml_escape(const std::string& s);

/// Up to ~`target` round tick values covering [lo, hi] (steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace mz::inspect
