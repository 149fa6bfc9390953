// Per-layer trace events, written as a readable log and as JSON Lines.
//
// Layers report what they do through a Tracer: virtual time, node, layer, a short
// event name ("rx_frame", "fcs_error"), a sentence for a student ("frame #3 from
// 02:00:00:00:00:01, FCS ok") and typed fields for tools. Check `enabled()` before
// building a message: with no sink attached, tracing costs one branch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "megzawicol/core/time.hpp"

namespace mz::trace {

enum class Layer : uint8_t {
  Physical = 1,
  DataLink = 2,
  Network = 3,
  Transport = 4,
  Session = 5,
  Presentation = 6,
  Application = 7,
  Link = 8,  // the medium between two PHYs (loss, queue, propagation)
  Sim = 9,   // the simulator itself (start, stop, topology)
};

/// "L2", "L7", "link", "sim".
const char* layer_tag(Layer l);
/// "Data Link Layer", "Network Layer", ...
const char* layer_name(Layer l);
/// Inverse of layer_tag (also accepts "1".."7"); returns false if unknown.
bool parse_layer(std::string_view s, Layer& out);

using Value = std::variant<int64_t, uint64_t, double, bool, std::string>;
struct Field {
  std::string key;
  Value value;
};

struct Event {
  Time time;
  std::string_view node;
  Layer layer;
  std::string_view name;
  std::string_view message;
  const std::vector<Field>* fields;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void record(const Event& e) = 0;
  virtual void flush() {}
};

class Tracer {
 public:
  bool enabled() const { return !sinks_.empty(); }
  void add_sink(std::unique_ptr<Sink> s) { sinks_.push_back(std::move(s)); }
  void emit(Time t, std::string_view node, Layer layer, std::string_view name, std::string_view message,
            const std::vector<Field>& fields = {});
  void flush();
  uint64_t count() const { return count_; }

 private:
  std::vector<std::unique_ptr<Sink>> sinks_;
  uint64_t count_ = 0;
};

/// `  0.005120400  b        [Data Link Layer] frame #3 ... ` — one line per event.
class LogSink : public Sink {
 public:
  explicit LogSink(std::FILE* f, bool owns = true) : f_(f), owns_(owns) {}
  ~LogSink() override;
  void record(const Event& e) override;
  void flush() override;
  static std::string format(const Event& e);

 private:
  std::FILE* f_;
  bool owns_;
};

/// {"time_ns":5120400,"node":"b","layer":"L2","event":"rx_frame","msg":"...","fields":{...}}
class JsonlSink : public Sink {
 public:
  explicit JsonlSink(std::FILE* f, bool owns = true) : f_(f), owns_(owns) {}
  ~JsonlSink() override;
  void record(const Event& e) override;
  void flush() override;
  static std::string format(const Event& e);

 private:
  std::FILE* f_;
  bool owns_;
};

/// Appends JSON string escaping of `s` (quotes included) to `out`.
void json_escape(std::string_view s, std::string& out);

}  // namespace mz::trace
