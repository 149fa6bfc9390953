// HTTP message helpers without Beast: header lookup, persistence, the seed's message
// request, the echo reply and the Date header. JSON is built and read with nlohmann/json.
#include <utility>

#include "megzawicol/l7/http.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace mz::l7 {

namespace {

using ordered_json = nlohmann::ordered_json;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

const std::string* find_header(const std::vector<HttpHeader>& hs, std::string_view name) {
  for (const auto& h : hs) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

/// True if any Connection field lists `token` (RFC 9110 7.6.1: a comma-separated list,
/// case-insensitive tokens, optional whitespace around the commas).
bool connection_has(const std::vector<HttpHeader>& hs, std::string_view token) {
  for (const auto& h : hs) {
    if (!iequals(h.name, "Connection")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view item = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (iequals(item, token)) return true;
    }
  }
  return false;
}

// RFC 9112 9.3.
bool persists(int version, const std::vector<HttpHeader>& hs) {
  if (connection_has(hs, "close")) return false;
  return version >= 11 || connection_has(hs, "keep-alive");
}

/// JSON text; invalid UTF-8 in a string becomes U+FFFD instead of throwing.
std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string version_string(int v) { return "HTTP/" + std::to_string(v / 10) + "." + std::to_string(v % 10); }

// Days since 1970-01-01 to a civil date (proleptic Gregorian), H. Hinnant's algorithm.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

}  // namespace

bool HttpRequest::keep_alive() const { return persists(version, headers); }
const std::string* HttpRequest::header(std::string_view name) const { return find_header(headers, name); }
bool HttpResponse::keep_alive() const { return persists(version, headers); }
const std::string* HttpResponse::header(std::string_view name) const { return find_header(headers, name); }

std::string http_date(int64_t unix_ns) {
  static constexpr std::array<const char*, 7> kDays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t secs = unix_ns / 1000000000;
  if (unix_ns % 1000000000 < 0) --secs;  // floor
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 1, d = 1;
  civil_from_days(days, y, m, d);
  int64_t wd = days % 7;
  if (wd < 0) wd += 7;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d GMT", kDays[static_cast<size_t>(wd)], d,
                kMonths[m - 1], static_cast<long long>(y), static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

std::string make_message_json(const std::string& message, int64_t timestamp_ns) {
  ordered_json j;
  j["message"] = message;
  j["timestamp"] = timestamp_ns;
  return dump(j);
}

HttpRequest make_message_request(const std::string& host, const std::string& message,
                                 int64_t timestamp_ns, const std::string& cookie,
                                 const std::string& bearer_token, bool keep_alive) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/messages";
  r.version = 11;
  r.body = make_message_json(message, timestamp_ns);
  r.headers.push_back({"Host", host});
  r.headers.push_back({"User-Agent", "megzawicol/0.1"});
  r.headers.push_back({"Content-Type", "application/json"});
  if (!cookie.empty()) r.headers.push_back({"Cookie", cookie});
  if (!bearer_token.empty()) r.headers.push_back({"Authorization", "Bearer " + bearer_token});
  r.headers.push_back({"Accept", "application/json"});
  if (!keep_alive) r.headers.push_back({"Connection", "close"});
  r.headers.push_back({"Content-Length", std::to_string(r.body.size())});
  return r;
}

namespace {

HttpResponse json_response(int status, const std::string& reason, int version, bool keep_alive,
                           std::string body, int64_t now_ns, const std::string& server_name) {
  HttpResponse res;
  res.status = status;
  res.reason = reason;
  res.version = version;
  res.body = std::move(body);
  res.headers.push_back({"Server", server_name});
  res.headers.push_back({"Date", http_date(now_ns)});
  res.headers.push_back({"Content-Type", "application/json"});
  res.headers.push_back({"Connection", keep_alive ? "keep-alive" : "close"});
  res.headers.push_back({"Content-Length", std::to_string(res.body.size())});
  return res;
}

}  // namespace

namespace {

bool is_octet_stream(const HttpRequest& req) {
  const std::string* type = req.header("Content-Type");
  return type != nullptr && type->rfind("application/octet-stream", 0) == 0;
}

// Raw bytes are echoed as they came: the body back, byte for byte, with the same type.
HttpResponse raw_echo(const HttpRequest& req, std::string body, int64_t now_ns, const std::string& server_name) {
  HttpResponse res = json_response(200, "OK", req.version, req.keep_alive(), std::move(body), now_ns, server_name);
  for (auto& h : res.headers)
    if (h.name == "Content-Type") h.value = "application/octet-stream";
  return res;
}

}  // namespace

HttpResponse make_echo_response(HttpRequest&& req, int64_t now_ns, const std::string& server_name) {
  if (is_octet_stream(req)) {
    std::string body = std::move(req.body);
    return raw_echo(req, std::move(body), now_ns, server_name);
  }
  return make_echo_response(static_cast<const HttpRequest&>(req), now_ns, server_name);
}

HttpResponse make_echo_response(const HttpRequest& req, int64_t now_ns, const std::string& server_name) {
  if (is_octet_stream(req)) return raw_echo(req, req.body, now_ns, server_name);
  ordered_json echo;
  echo["method"] = req.method;
  echo["target"] = req.target;
  echo["path"] = req.target.substr(0, req.target.find('?'));
  echo["version"] = version_string(req.version);
  ordered_json headers = ordered_json::array();
  for (const auto& h : req.headers) headers.push_back({{"name", h.name}, {"value", h.value}});
  echo["headers"] = std::move(headers);
  echo["message"] = nullptr;
  echo["timestamp"] = nullptr;
  echo["body_length"] = req.body.size();
  echo["received_at_ns"] = now_ns;

  int status = 200;
  std::string reason = "OK";
  if (!req.body.empty()) {
    const std::string* type = req.header("Content-Type");
    bool is_json = type != nullptr && type->find("json") != std::string::npos;
    auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      if (is_json) {
        status = 400;
        reason = "Bad Request";
        echo["error"] = "body is not valid JSON";
      }
    } else if (body.is_object()) {
      auto m = body.find("message");
      if (m != body.end() && m->is_string()) echo["message"] = m->get<std::string>();
      auto t = body.find("timestamp");
      if (t != body.end() && t->is_number_integer()) echo["timestamp"] = t->get<int64_t>();
    }
  }
  return json_response(status, reason, req.version, req.keep_alive(), dump(echo), now_ns,
                       server_name);
}

HttpResponse make_upload_response(const HttpRequest& req, uint32_t body_crc32, int64_t now_ns,
                                  const std::string& server_name) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(body_crc32));
  ordered_json j;
  j["bytes"] = req.body.size();
  j["crc32"] = crc;
  return json_response(200, "OK", req.version, req.keep_alive(), dump(j), now_ns, server_name);
}

HttpResponse make_error_response(int status, const std::string& reason, const std::string& detail,
                                 int64_t now_ns, const std::string& server_name) {
  ordered_json j;
  j["error"] = detail;
  return json_response(status, reason, 11, false, dump(j), now_ns, server_name);
}

}  // namespace mz::l7
