// Reading a run's trace.jsonl back, one event at a time.
//
// TraceReader streams the file line by line (memory is bounded by the longest line,
// not the file), checks each line is one event as JsonlSink writes it, and throws
// TraceError naming the file and the 1-based line number of the first bad line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "megzawicol/trace/tracer.hpp"

namespace mz::inspect {

/// Bad input: a missing or malformed trace, an unknown option value. Commands exit 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A trace file that cannot be read or has a malformed line: "PATH: line N: problem".
class TraceError : public InputError {
 public:
  using InputError::InputError;
};

/// One event of trace.jsonl.
struct TraceRecord {
  uint64_t line = 0;  // 1-based line number in the file; the event's index is line - 1
  int64_t time_ns = 0;
  std::string node;
  trace::Layer layer = trace::Layer::Sim;
  std::string event;
  std::string msg;
  nlohmann::json fields = nlohmann::json::object();
  std::string raw;  // the line as read, without the newline

  /// The event as the tracer saw it (for trace::LogSink::format); `storage` receives the
  /// fields and must outlive the returned Event, as must this record.
  trace::Event as_event(std::vector<trace::Field>& storage) const;
  /// The trace.log line of this event (with its newline).
  std::string log_line() const;

  std::optional<int64_t> int_field(std::string_view key) const;
  std::optional<uint64_t> uint_field(std::string_view key) const;
  std::optional<double> number_field(std::string_view key) const;
  std::optional<std::string> string_field(std::string_view key) const;

  /// Same event (time, node, layer, name, message and fields), whatever the spelling.
  bool same_as(const TraceRecord& o) const;
};

/// `path` if it names a file, else path/trace.jsonl.
std::string trace_path(const std::string& dir_or_file);

class TraceReader {
 public:
  /// Opens DIR/trace.jsonl (or a .jsonl file given directly). Throws TraceError if it
  /// cannot be opened.
  explicit TraceReader(const std::string& dir_or_file);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  /// Reads the next event into `r`; false at the end of the file. Throws TraceError on a
  /// malformed line.
  bool next(TraceRecord& r);

  const std::string& path() const { return path_; }
  /// Lines read so far.
  uint64_t lines() const { return line_; }

  /// Longest accepted line; a longer one is an error (guards against a corrupt file).
  static constexpr size_t kMaxLine = 64u << 20;

 private:
  bool read_line(std::string& out);
  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t line_ = 0;
};

/// Parses one trace.jsonl line; throws TraceError("SOURCE: line N: ...").
TraceRecord parse_trace_line(std::string_view text, const std::string& source, uint64_t line);

/// "1.5s", "200ms", "250us", "10ns", "2m", "1h"; a bare number is seconds. Exact (no
/// binary floating point); throws InputError on anything else.
int64_t parse_time_ns(std::string_view s);

/// "12.000345678" with the trace.log's 9 decimals.
std::string format_time_ns(int64_t ns);

}  // namespace mz::inspect
