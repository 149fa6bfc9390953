#include "megzawicol/report/html.hpp"

#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "megzawicol/inspect/reader.hpp"
#include "megzawicol/l1/line_code.hpp"
#include "megzawicol/report/pcap_reader.hpp"
#include "page.hpp"

namespace mz::report {

nlohmann::ordered_json decoded_json(const DecodedFrame& d) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& l : d.layers) {
    nlohmann::ordered_json f = nlohmann::ordered_json::object();
    for (const auto& x : l.fields) f[x.key] = field_text(x);
    out.push_back({{"layer", l.name}, {"fields", f}});
  }
  return out;
}

namespace {

std::string base64(ByteView b) {
  static constexpr char kT[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    out += kT[v >> 18];
    out += kT[(v >> 12) & 63];
    out += kT[(v >> 6) & 63];
    out += kT[v & 63];
  }
  if (i < b.size()) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (i + 1 < b.size() ? uint32_t{b[i + 1]} << 8 : 0);
    out += kT[v >> 18];
    out += kT[(v >> 12) & 63];
    out += i + 1 < b.size() ? kT[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Strings (layer names, keys, string values, summaries) interned in one table.
struct Interner {
  nlohmann::json table = nlohmann::json::array();
  std::unordered_map<std::string, uint64_t> index;
  uint64_t id(const std::string& s) {
    auto [it, fresh] = index.try_emplace(s, index.size());
    if (fresh) table.push_back(s);
    return it->second;
  }
};

// A layer is [template, value, value, ...]: the template (an index into the table of
// templates, [name, key, key, ...] as string indices) gives the layer's name and keys, so
// frames of the same kind share them. A value is a number, or -(index + 1) for a string. A
// hex-formatted key is stored as "#<digits>:key".
struct Templates {
  nlohmann::json table = nlohmann::json::array();
  std::map<std::vector<uint64_t>, uint64_t> index;
};

nlohmann::json compact_layers(const DecodedFrame& d, Interner& in, Templates& tp) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : d.layers) {
    std::vector<uint64_t> keys{in.id(l.name)};
    nlohmann::json a = nlohmann::json::array();
    a.push_back(0);
    for (const auto& f : l.fields) {
      keys.push_back(in.id(f.hex_digits ? "#" + std::to_string(f.hex_digits) + ":" + f.key : f.key));
      if (const auto* s = std::get_if<std::string>(&f.value)) a.push_back(-static_cast<int64_t>(in.id(*s)) - 1);
      else a.push_back(std::get<uint64_t>(f.value));
    }
    auto [it, fresh] = tp.index.try_emplace(keys, tp.index.size());
    if (fresh) tp.table.push_back(keys);
    a[0] = it->second;
    out.push_back(std::move(a));
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

}  // namespace

std::string render_report(const Ladder& L, const ReportOptions& opts, ReportStats* stats) {
  uint64_t total_bytes = 0;
  for (const auto& f : L.frames) total_bytes += f.sent.size() + f.received.size();
  const bool truncate = total_bytes > opts.full_bytes_budget;

  Interner in;
  Templates tp;
  nlohmann::json t = nlohmann::json::array(), a = nlohmann::json::array(), s = nlohmann::json::array(),
                 r = nlohmann::json::array(), fl = nlohmann::json::array(), n = nlohmann::json::array(),
                 p = nlohmann::json::array(), k = nlohmann::json::array(), x = nlohmann::json::array(),
                 b = nlohmann::json::array();
  nlohmann::json d2 = nlohmann::json::object(), rb = nlohmann::json::object(), xr = nlohmann::json::object(),
                 lb = nlohmann::json::object(), tx = nlohmann::json::array();
  size_t line_bits_used = 0;
  int64_t prev = 0;
  l1::LineBits bits;
  for (size_t i = 0; i < L.frames.size(); ++i) {
    const LadderFrame& f = L.frames[i];
    t.push_back(f.send_ns - prev);
    prev = f.send_ns;
    a.push_back(f.recv_ns >= 0 ? f.recv_ns - f.send_ns : -1);
    if (f.recv2_ns >= 0) d2[std::to_string(i)] = f.recv2_ns - f.send_ns;
    s.push_back(f.from_port);
    r.push_back(f.to_port);
    fl.push_back(f.flags);
    n.push_back(f.len);
    tx.push_back(f.tx_ns);
    const std::string key = std::to_string(i);
    if (!f.sent.empty()) {
      const DecodedFrame d = decode_frame(f.sent, f.len);
      p.push_back(static_cast<int>(d.proto));
      k.push_back(in.id(d.summary));
      x.push_back(compact_layers(d, in, tp));
      const size_t keep = truncate ? std::min(f.sent.size(), opts.truncate_bytes) : f.sent.size();
      b.push_back(base64(ByteView(f.sent).subspan(0, keep)));
      if (!f.received.empty()) {
        const DecodedFrame dr = decode_frame(f.received);
        xr[key] = compact_layers(dr, in, tp);
        const size_t keep_r = truncate ? std::min(f.received.size(), opts.truncate_bytes) : f.received.size();
        rb[key] = base64(ByteView(f.received).subspan(0, keep_r));
      }
      if (f.sent.size() < 128 && line_bits_used < opts.line_bits_budget) {
        l1::encode_frame(f.sent, bits);
        std::string enc = base64(ByteView(bits.bits.data(), (bits.nbits + 7) / 8));
        line_bits_used += enc.size();
        lb[key] = std::move(enc);
      }
    } else {
      p.push_back(0);
      k.push_back(in.id("frame of " + std::to_string(f.len) + " bytes (no capture)"));
      x.push_back(nlohmann::json::array());
      b.push_back("");
    }
  }
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& pt : L.ports) ports.push_back({pt.label, pt.lane, pt.peer});
  nlohmann::json data = {{"v", 1},
                         {"scenario", L.scenario},
                         {"dir", L.dir},
                         {"end", L.end_ns},
                         {"lanes", L.lanes},
                         {"ports", ports},
                         {"truncated", truncate ? opts.truncate_bytes : 0},
                         {"warnings", L.warnings},
                         {"S", std::move(in.table)},
                         {"L", std::move(tp.table)},
                         {"t", std::move(t)},
                         {"a", std::move(a)},
                         {"s", std::move(s)},
                         {"r", std::move(r)},
                         {"f", std::move(fl)},
                         {"n", std::move(n)},
                         {"tx", std::move(tx)},
                         {"p", std::move(p)},
                         {"k", std::move(k)},
                         {"x", std::move(x)},
                         {"b", std::move(b)},
                         {"d2", std::move(d2)},
                         {"rb", std::move(rb)},
                         {"xr", std::move(xr)},
                         {"lb", std::move(lb)}};
  std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Inside <script>: "</" must not appear ("<\/" is the same JSON string).
  std::string safe;
  safe.reserve(json.size() + 16);
  for (size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') safe += "<\\";
    else safe += json[i];
  }
  const std::string title = "Ladder diagram" + (L.scenario.empty() ? std::string() : " of " + L.scenario);
  std::string html;
  html.reserve(safe.size() + 64 * 1024);
  html += kPageHead;
  html += "<title>" + html_escape(title) + "</title>\n";
  html += kPageStyleAndBody;
  html += "<script type=\"application/json\" id=\"mz-data\">";
  html += safe;
  html += "</script>\n<script>\n";
  html += kPageScript;
  html += "</script>\n</body>\n</html>\n";
  if (stats) {
    stats->frames = L.frames.size();
    stats->html_bytes = html.size();
    stats->bytes_truncated = truncate;
  }
  return html;
}

ReportStats write_report(const std::string& dir, const std::string& out_file, const ReportOptions& opts) {
  const Ladder L = build_ladder(dir);
  ReportStats st;
  const std::string html = render_report(L, opts, &st);
  std::ofstream o(out_file, std::ios::binary | std::ios::trunc);
  if (!o) throw std::runtime_error(out_file + ": cannot create file");
  o.write(html.data(), static_cast<std::streamsize>(html.size()));
  o.close();
  if (!o) throw std::runtime_error(out_file + ": write failed");
  return st;
}

int report_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  namespace po = boost::program_options;
  std::string dir, file;
  bool help = false;
  po::options_description d("Options");
  d.add_options()("out,o", po::value(&file), "the HTML file to write (default: DIR/report.html)")(
      "help,h", po::bool_switch(&help), "show this help");
  po::options_description hidden;
  hidden.add_options()("dir", po::value(&dir));
  po::options_description all;
  all.add(d).add(hidden);
  po::positional_options_description pos;
  pos.add("dir", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
    if (help) {
      out << "Usage: megzawicol report DIR [--out FILE]\n\n"
             "Writes a ladder (sequence) diagram of the run in DIR as one self-contained HTML\n"
             "file: a lane per node, an arrow per frame from its send to its arrival time,\n"
             "coloured by protocol, lost and damaged frames marked; click an arrow to see the\n"
             "frame decoded layer by layer, its bytes and its line bits. Reads DIR/trace.jsonl\n"
             "and the captures DIR/<node>-<iface>.pcap.\n\n"
          << d;
      return 0;
    }
    if (dir.empty()) throw po::error("missing run DIR");
  } catch (const po::error& e) {
    err << "megzawicol report: " << e.what() << " (see megzawicol report --help)\n";
    return 2;
  }
  if (file.empty()) file = (std::filesystem::path(dir) / "report.html").string();
  try {
    const ReportStats st = write_report(dir, file, {});
    out << file << ": " << st.frames << " frames, " << st.html_bytes << " bytes"
        << (st.bytes_truncated ? " (frame bytes truncated to their headers)" : "") << "\n";
    return 0;
  } catch (const inspect::InputError& e) {
    err << "megzawicol report: " << e.what() << "\n";
    return 2;
  } catch (const PcapError& e) {
    err << "megzawicol report: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "megzawicol report: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace mz::report
