#include "megzawicol/trace/tracer.hpp"

#include <cinttypes>
#include <cmath>

namespace mz::trace {

const char* layer_tag(Layer l) {
  switch (l) {
    case Layer::Physical: return "L1";
    case Layer::DataLink: return "L2";
    case Layer::Network: return "L3";
    case Layer::Transport: return "L4";
    case Layer::Session: return "L5";
    case Layer::Presentation: return "L6";
    case Layer::Application: return "L7";
    case Layer::Link: return "link";
    case Layer::Sim: return "sim";
  }
  return "?";
}

const char* layer_name(Layer l) {
  switch (l) {
    case Layer::Physical: return "Physical Layer";
    case Layer::DataLink: return "Data Link Layer";
    case Layer::Network: return "Network Layer";
    case Layer::Transport: return "Transport Layer";
    case Layer::Session: return "Session Layer";
    case Layer::Presentation: return "Presentation Layer";
    case Layer::Application: return "Application Layer";
    case Layer::Link: return "Link";
    case Layer::Sim: return "Simulator";
  }
  return "?";
}

bool parse_layer(std::string_view s, Layer& out) {
  for (int i = 1; i <= 9; ++i) {
    auto l = static_cast<Layer>(i);
    if (s == layer_tag(l) || (i <= 7 && s.size() == 1 && s[0] == '0' + i)) {
      out = l;
      return true;
    }
  }
  return false;
}

void Tracer::emit(Time t, std::string_view node, Layer layer, std::string_view name, std::string_view message,
                  const std::vector<Field>& fields) {
  Event e{t, node, layer, name, message, &fields};
  ++count_;
  for (auto& s : sinks_) s->record(e);
}

void Tracer::flush() {
  for (auto& s : sinks_) s->flush();
}

void json_escape(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

namespace {

void append_value(const Value& v, std::string& out) {
  char buf[40];
  if (auto* i = std::get_if<int64_t>(&v)) {
    std::snprintf(buf, sizeof buf, "%" PRId64, *i);
    out += buf;
  } else if (auto* u = std::get_if<uint64_t>(&v)) {
    std::snprintf(buf, sizeof buf, "%" PRIu64, *u);
    out += buf;
  } else if (auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      std::snprintf(buf, sizeof buf, "%.10g", *d);
      out += buf;
    } else {
      out += "null";
    }
  } else if (auto* b = std::get_if<bool>(&v)) {
    out += *b ? "true" : "false";
  } else {
    json_escape(std::get<std::string>(v), out);
  }
}

}  // namespace

std::string LogSink::format(const Event& e) {
  std::string line;
  line.reserve(96 + e.message.size());
  char head[64];
  const int64_t ns = e.time.ns;
  std::snprintf(head, sizeof head, "%6" PRId64 ".%09" PRId64 "  ", ns / 1000000000, ns % 1000000000);
  line += head;
  line += e.node;
  if (e.node.size() < 8) line.append(8 - e.node.size(), ' ');
  line += " [";
  line += layer_name(e.layer);
  line += "] ";
  line += e.message;
  line.push_back('\n');
  return line;
}

LogSink::~LogSink() {
  if (f_ && owns_) std::fclose(f_);
}
void LogSink::record(const Event& e) {
  const std::string s = format(e);
  std::fwrite(s.data(), 1, s.size(), f_);
}
void LogSink::flush() { std::fflush(f_); }

std::string JsonlSink::format(const Event& e) {
  std::string out;
  out.reserve(160 + e.message.size());
  char buf[48];
  std::snprintf(buf, sizeof buf, "{\"time_ns\":%" PRId64 ",\"node\":", e.time.ns);
  out += buf;
  json_escape(e.node, out);
  out += ",\"layer\":\"";
  out += layer_tag(e.layer);
  out += "\",\"event\":";
  json_escape(e.name, out);
  out += ",\"msg\":";
  json_escape(e.message, out);
  out += ",\"fields\":{";
  bool first = true;
  for (const auto& f : *e.fields) {
    if (!first) out.push_back(',');
    first = false;
    json_escape(f.key, out);
    out.push_back(':');
    append_value(f.value, out);
  }
  out += "}}\n";
  return out;
}

JsonlSink::~JsonlSink() {
  if (f_ && owns_) std::fclose(f_);
}
void JsonlSink::record(const Event& e) {
  const std::string s = format(e);
  std::fwrite(s.data(), 1, s.size(), f_);
}
void JsonlSink::flush() { std::fflush(f_); }

}  // namespace mz::trace
