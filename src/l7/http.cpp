// The HTTP/1.1 codecs: every use of Boost.Beast in the project is in this file (one
// translation unit, so that the Beast headers are compiled once; see notes/build.md).
//
// Receive path (both sides):
//
//   feed(bytes) --> ReceiveBuffer [ consumed | unread ..... ]    (compacted lazily)
//                                            |
//   next():          parser.put(unread) -> n bytes consumed; need_more -> nullopt
//                    parser.is_done()   -> release() the message, emplace a fresh parser
//
// A Beast parser is used for one message only, so a new one is emplaced after each message
// (pipelining). Beast keeps no copy of the unread bytes: what it does not consume is shown
// to it again, with the new bytes, on the next call. The header goes to Beast only in
// complete pieces (see MessageReader), so that errors do not depend on the chunking, and a
// chunked body that starts with its last chunk is held back while it is shorter than Beast
// 1.74 accepts (see MessageReader::waiting_for_trailer_end).
#include <utility>  // before any Boost.Asio/Beast header: Boost 1.74 + g++ 12 quirk

#include "megzawicol/l7/http.hpp"

#include <algorithm>
#include <cassert>
#include <deque>
#include <exception>
#include <functional>
#include <limits>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>

namespace mz::l7 {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

// ---------------------------------------------------------------------------------------
// Serializing

// RFC 9110 5.5: a value carrying CR, LF or NUL would let a caller inject a field; they go
// out as SP.
std::string clean_value(const std::string& v) {
  std::string out = v;
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

constexpr size_t kMaxFieldPart = 65000;  // Beast stores name and value lengths in 16 bits

// Messages are serialized from the caller's body in place (a span over it): the body is
// copied once, into the wire bytes.
using SendBody = bhttp::span_body<char const>;

template <bool isRequest>
void put_fields(bhttp::message<isRequest, SendBody>& m,
                const std::vector<HttpHeader>& headers, const std::string& body) {
  for (const auto& h : headers) {
    assert(!h.name.empty() && h.name.size() < kMaxFieldPart && h.value.size() < kMaxFieldPart);
    if (h.name.empty() || h.name.size() >= kMaxFieldPart || h.value.size() >= kMaxFieldPart)
      continue;
    m.insert(beast::string_view(h.name), clean_value(h.value));
  }
  m.body() = SendBody::value_type(body.data(), body.size());
  // Keep a correct Content-Length where the caller put it; otherwise let Beast decide
  // (Content-Length for a body, none for a GET without one), dropping any
  // Transfer-Encoding: the body is always sent whole.
  bool length_ok = m.count(bhttp::field::content_length) == 1 &&
                   m.find(bhttp::field::transfer_encoding) == m.end() &&
                   m[bhttp::field::content_length] == beast::string_view(std::to_string(body.size()));
  if (!length_ok) {
    m.erase(bhttp::field::transfer_encoding);
    m.erase(bhttp::field::content_length);
    try {
      m.prepare_payload();
    } catch (const std::invalid_argument&) {
      // A body where the method or status forbids one (TRACE, 1xx, 204, 304): a caller
      // bug; send it with its length rather than throw on the data path.
      assert(false && "body not allowed for this method or status");
      m.content_length(body.size());
    }
  }
}

template <bool isRequest>
Bytes write_message(bhttp::message<isRequest, SendBody>& m) {
  bhttp::serializer<isRequest, SendBody> sr{m};
  Bytes out;
  out.reserve(m.body().size() + 512);  // the header is usually shorter
  beast::error_code ec;
  while (!sr.is_done()) {
    sr.next(ec, [&](beast::error_code& vec, const auto& buffers) {
      vec = {};
      size_t n = 0;
      for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers); ++it) {
        const net::const_buffer b = *it;
        const auto* p = static_cast<const uint8_t*>(b.data());
        out.insert(out.end(), p, p + b.size());
        n += b.size();
      }
      sr.consume(n);
    });
    if (ec) break;  // a span body cannot fail; kept for safety
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Parsing

/// Bytes received and not yet parsed: a vector and a read offset; the consumed prefix is
/// dropped when it is at least half of the vector (amortized O(1) per byte), h11 style.
class ReceiveBuffer {
 public:
  void append(ByteView b) {
    if (start_ > 0 && start_ * 2 >= data_.size()) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(start_));
      start_ = 0;
    }
    data_.insert(data_.end(), b.begin(), b.end());
  }
  std::string_view unread() const {
    return {reinterpret_cast<const char*>(data_.data()) + start_, data_.size() - start_};
  }
  size_t size() const { return data_.size() - start_; }
  void consume(size_t n) {
    assert(n <= size());
    start_ += n;
    if (start_ == data_.size()) clear();
  }
  void clear() {
    start_ = 0;
    if (data_.capacity() > kKeepCapacity) {
      Bytes().swap(data_);  // a big burst does not pin its memory
    } else {
      data_.clear();
    }
  }

 private:
  static constexpr size_t kKeepCapacity = 64 * 1024;
  Bytes data_;
  size_t start_ = 0;
};

/// One direction of a connection: bytes in, messages out, one Beast parser per message.
///
/// The header is handed to Beast in two complete pieces, so that the verdict on a malformed
/// header never depends on how the bytes were cut (Beast parses a start line eagerly when it
/// first sees it, but, once it has been shown a partial header, waits for the blank line
/// before looking again, so the same bytes could give "bad method" or nothing yet):
///   1. the start line, once its CRLF has arrived (before that, a prefix that cannot start
///      one, such as a TLS ClientHello, is refused as soon as it is seen);
///   2. the field lines, once the blank line has arrived (h11 waits for it too), up to the
///      blank line; then everything after, so that Beast goes through the body in one call
///      (eager mode).
/// Chunk headers are left to Beast: it only reads one once its CRLF is there. One shape is
/// kept from it (waiting_for_trailer_end): the short tail of a body whose first chunk is the
/// last one, which Beast 1.74 cannot be shown again before it has grown to 5 bytes.
/// While waiting, the bytes of the incomplete header count against max_header_bytes.
///
/// Not copyable or movable: the parser keeps a reference to on_chunk_header_, which points
/// back at this reader (the codecs hold their reader behind a unique_ptr).
template <bool isRequest>
class MessageReader {
 public:
  using Message = bhttp::message<isRequest, bhttp::string_body>;

  explicit MessageReader(HttpLimits limits) : limits_(limits) {}
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;

  void feed(ByteView bytes) {
    if (error_ || stopped_) return;
    buf_.append(bytes);
  }
  void feed_eof() { eof_ = true; }
  /// No more messages are read; further input is dropped.
  void stop() {
    stopped_ = true;
    buf_.clear();
  }
  bool failed() const { return error_.has_value(); }
  size_t buffered() const { return buf_.size(); }

  std::optional<Result<Message>> next() {
    if (error_) return Result<Message>(*error_);
    if (stopped_) return std::nullopt;
    if (!parser_) {
      // RFC 9112 2.2: a recipient SHOULD ignore empty lines before a start line (some
      // clients send a CRLF after a POST body).
      skip_empty_lines();
      if (buf_.size() == 0) return std::nullopt;  // between messages (a close here is clean)
      if (buf_.unread() == "\r" && !eof_) return std::nullopt;  // maybe the CR of a CRLF
      fresh_parser();
    }
    try {
      if (phase_ == Phase::start_line) {
        if (const char* bad = check_start_prefix()) return fail(make_error(bad));
        size_t end = scan_for_crlf();
        if (end == std::string_view::npos) return wait_for_header(0);
        std::string_view line = buf_.unread().substr(0, end);
        beast::error_code ec;
        size_t n = parser_->put(net::const_buffer(line.data(), line.size()), ec);
        if (ec && ec != bhttp::error::need_more) return fail(ec);
        if (n != line.size()) return fail(make_error("bad start line"));  // not expected
        buf_.consume(n);
        start_line_bytes_ = n;
        phase_ = Phase::fields;
        scan_ = 0;
      }
      if (phase_ == Phase::fields) {
        size_t end = scan_for_blank_line();
        if (end == std::string_view::npos) return wait_for_header(start_line_bytes_);
        // The field lines alone, up to the blank line: when they are followed by body bytes
        // in the same put(), Beast 1.74 goes on into the body (eager mode) and drops an
        // error found at the end of the header (a Content-Length over the body limit), so
        // the verdict would depend on whether the body came in the same piece.
        std::string_view fields = buf_.unread().substr(0, end);
        beast::error_code ec;
        size_t n = parser_->put(net::const_buffer(fields.data(), fields.size()), ec);
        buf_.consume(n);
        if (ec && ec != bhttp::error::need_more) return fail(ec);
        phase_ = Phase::rest;  // what Beast did not take goes with the body (not expected)
      }
      while (!parser_->is_done() && buf_.size() > 0) {
        std::string_view in = buf_.unread();
        if (waiting_for_trailer_end(in)) break;
        beast::error_code ec;
        size_t n = parser_->put(net::const_buffer(in.data(), in.size()), ec);
        buf_.consume(n);
        if (ec == bhttp::error::need_more) {
          note_declined_chunk_line();
          if (n == 0) break;
          continue;
        }
        if (ec) return fail(ec);
        if (n == 0) break;
      }
      if (!parser_->is_done() && eof_) {
        beast::error_code ec;
        parser_->put_eof(ec);  // ends a body delimited by the close, or "partial message"
        if (ec) return fail(ec);
      }
    } catch (const std::exception& e) {
      // Beast throws only on allocation limits (a field longer than 64 KiB when the header
      // limit allows it, bad_alloc): malformed input all the same.
      return fail(make_error(std::string("malformed message: ") + e.what()));
    }
    if (!parser_->is_done()) {
      // What Beast left unconsumed is an incomplete chunk header (or trailer): bound it.
      if (buf_.size() > limits_.max_header_bytes) {
        return fail(make_error("chunk header too large (limit " + std::to_string(limits_.max_header_bytes) +
                               " bytes)"));
      }
      return std::nullopt;
    }
    Message m = parser_->release();
    parser_.reset();
    phase_ = Phase::start_line;
    scan_ = 0;
    prefix_checked_ = 0;
    return Result<Message>(std::move(m));
  }

 private:
  using Parser = bhttp::parser<isRequest, bhttp::string_body>;
  enum class Phase { start_line, fields, rest };

  void fresh_parser() {
    parser_.emplace();
    auto header_limit = static_cast<uint32_t>(
        std::min<size_t>(limits_.max_header_bytes, std::numeric_limits<uint32_t>::max()));
    parser_->header_limit(header_limit);
    parser_->body_limit(static_cast<std::uint64_t>(limits_.max_body_bytes));
    parser_->eager(true);  // the body in the same put() as the header
    parser_->on_chunk_header(on_chunk_header_);
    data_chunk_seen_ = false;
    last_chunk_line_seen_ = false;
  }

  // Beast 1.74 (basic_parser::parse_chunk_header) asserts `n >= 5` when it is shown the
  // chunked body again after it has read the last-chunk line ("0" [ext] CRLF) and is
  // waiting for the end of the trailer. The least it can have been shown is 5 bytes
  // (CRLF "0" CRLF) when a chunk with data came before, but only 3 ("0" CRLF) when the
  // body starts with its last chunk. So once it has read "0\r\n" right after the header,
  // showing it "0\r\n\r" (one more byte arrived: a tail fed in small pieces) or the same
  // 3 bytes again (a put() after a need_more that consumed something) trips the assert.
  // With fewer than 5 bytes Beast could only answer need_more (the smallest complete
  // tail, "0" CRLF CRLF, is 5), so holding them back until there are 5 changes nothing
  // else. Later Beast versions relax the assert to 3 in that case.
  static constexpr size_t kMinLastChunkPut = 5;

  /// True when the unread bytes must not go to Beast yet (see above).
  bool waiting_for_trailer_end(std::string_view in) const {
    return last_chunk_line_seen_ && in.size() < kMinLastChunkPut;
  }

  /// After Beast answered need_more in the body: when no chunk with data has been accepted
  /// and the bytes it left contain a CRLF, it has read a complete line there without
  /// taking it, which only the last-chunk line does (any other line is a chunk header it
  /// takes, or an error).
  void note_declined_chunk_line() {
    if (last_chunk_line_seen_ || data_chunk_seen_) return;
    if (!parser_->is_header_done() || !parser_->chunked()) return;
    if (buf_.unread().find("\r\n") != std::string_view::npos) last_chunk_line_seen_ = true;
  }

  void skip_empty_lines() {
    for (;;) {
      std::string_view in = buf_.unread();
      if (in.size() >= 2 && in[0] == '\r' && in[1] == '\n') {
        buf_.consume(2);
      } else if (!in.empty() && in[0] == '\n') {
        buf_.consume(1);
      } else {
        return;
      }
    }
  }

  /// While the start line is incomplete, refuses what can already not become one: a
  /// request must open with a method token and SP, a response with "HTTP/". The verdict
  /// depends only on the bytes seen, so it is the same for any chunking, and it is the
  /// message Beast gives for the complete line. Returns nullptr when no verdict yet.
  const char* check_start_prefix() {
    std::string_view in = buf_.unread();
    if constexpr (isRequest) {
      for (; prefix_checked_ < in.size(); ++prefix_checked_) {
        char c = in[prefix_checked_];
        if (c == ' ') return prefix_checked_ == 0 ? "bad method" : nullptr;
        if (!is_tchar(c)) return "bad method";
      }
    } else {
      constexpr std::string_view kHttp = "HTTP/";
      for (; prefix_checked_ < std::min(in.size(), kHttp.size()); ++prefix_checked_) {
        if (in[prefix_checked_] != kHttp[prefix_checked_]) return "bad version";
      }
    }
    return nullptr;
  }

  // RFC 9110 5.6.2 tchar.
  static bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

  /// Offset just past the first CRLF in the unread bytes, or npos. Resumes where the last
  /// call stopped, so waiting for a long line is linear, not quadratic.
  size_t scan_for_crlf() {
    std::string_view in = buf_.unread();
    size_t pos = in.find("\r\n", scan_);
    if (pos == std::string_view::npos) {
      scan_ = in.empty() ? 0 : in.size() - 1;
      return pos;
    }
    return pos + 2;
  }

  /// Once the field lines are complete, the offset just past the blank line that ends them:
  /// the unread bytes (which start right after the start line's CRLF) begin with CRLF or
  /// hold CRLF CRLF, as Beast's own search. npos while incomplete.
  size_t scan_for_blank_line() {
    std::string_view in = buf_.unread();
    if (in.substr(0, 2) == "\r\n") return 2;
    size_t pos = in.find("\r\n\r\n", scan_);
    if (pos != std::string_view::npos) return pos + 4;
    scan_ = in.size() < 3 ? 0 : in.size() - 3;
    return std::string_view::npos;
  }

  /// The header is incomplete: an error past the limit or at the end of the stream,
  /// otherwise wait.
  std::optional<Result<Message>> wait_for_header(size_t already_parsed) {
    if (already_parsed + buf_.size() >= limits_.max_header_bytes) {
      return fail(make_error("header too large (limit " + std::to_string(limits_.max_header_bytes) +
                             " bytes)"));
    }
    if (eof_) return fail(make_error("partial message"));
    return std::nullopt;
  }

  std::optional<Result<Message>> fail(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      return fail(make_error("header too large (limit " + std::to_string(limits_.max_header_bytes) +
                             " bytes)"));
    }
    if (ec == bhttp::error::body_limit) {
      return fail(make_error("body too large (limit " + std::to_string(limits_.max_body_bytes) +
                             " bytes)"));
    }
    return fail(make_error(ec.message()));
  }
  std::optional<Result<Message>> fail(Error e) {
    error_ = std::move(e);
    parser_.reset();
    buf_.clear();
    return Result<Message>(*error_);
  }

  HttpLimits limits_;
  ReceiveBuffer buf_;
  std::optional<Parser> parser_;
  Phase phase_ = Phase::start_line;
  size_t scan_ = 0;              // where the search for the end of the header resumes
  size_t start_line_bytes_ = 0;  // given to Beast already, counted in the header limit
  size_t prefix_checked_ = 0;    // start-line bytes seen by check_start_prefix
  std::optional<Error> error_;
  bool eof_ = false;
  bool stopped_ = false;
  bool data_chunk_seen_ = false;       // Beast accepted a chunk header of nonzero size
  bool last_chunk_line_seen_ = false;  // see waiting_for_trailer_end
  // Called by Beast for each chunk header it accepts (size 0: the last chunk, once the
  // trailer is complete).
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_header_ =
      [this](std::uint64_t size, beast::string_view, beast::error_code&) {
        if (size != 0) data_chunk_seen_ = true;
      };
};

std::vector<HttpHeader> take_fields(const bhttp::fields& f) {
  std::vector<HttpHeader> out;
  for (const auto& field : f) {
    out.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  return out;
}

HttpRequest to_request(bhttp::request<bhttp::string_body>&& m) {
  HttpRequest r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  r.version = static_cast<int>(m.version());
  r.headers = take_fields(m.base());
  r.body = std::move(m.body());
  return r;
}

HttpResponse to_response(bhttp::response<bhttp::string_body>&& m) {
  HttpResponse r;
  r.status = static_cast<int>(m.result_int());
  r.reason = std::string(m.reason());
  r.version = static_cast<int>(m.version());
  r.headers = take_fields(m.base());
  r.body = std::move(m.body());
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

// -----------------------------------------------------------------------------------------

Bytes serialize(const HttpRequest& req) {
  assert(!req.method.empty() && !req.target.empty());
  assert(req.target.find_first_of(" \r\n") == std::string::npos);
  bhttp::request<SendBody> m;
  m.method_string(req.method);
  m.target(req.target);
  m.version(static_cast<unsigned>(req.version));
  put_fields(m, req.headers, req.body);
  return write_message(m);
}

Bytes serialize(const HttpResponse& res) {
  assert(res.status >= 100 && res.status <= 999);
  bhttp::response<SendBody> m;
  m.result(static_cast<unsigned>(std::clamp(res.status, 100, 999)));
  if (!res.reason.empty()) m.reason(clean_value(res.reason));
  m.version(static_cast<unsigned>(res.version));
  put_fields(m, res.headers, res.body);
  return write_message(m);
}

// -----------------------------------------------------------------------------------------

struct HttpServerCodec::Impl {
  explicit Impl(HttpLimits l) : reader(l) {}
  MessageReader<true> reader;
  std::deque<bool> pending_keep_alive;  // per request returned and not answered yet
  bool close_after = false;             // a closing request was returned
  bool closing = false;                 // a response that ends the connection went out
};

HttpServerCodec::HttpServerCodec(HttpLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
HttpServerCodec::~HttpServerCodec() = default;
HttpServerCodec::HttpServerCodec(HttpServerCodec&&) noexcept = default;
HttpServerCodec& HttpServerCodec::operator=(HttpServerCodec&&) noexcept = default;

void HttpServerCodec::feed(ByteView bytes) { impl_->reader.feed(bytes); }

std::optional<Result<HttpRequest>> HttpServerCodec::next() {
  auto r = impl_->reader.next();
  if (!r) return std::nullopt;
  if (!r->ok()) return Result<HttpRequest>(r->error());
  HttpRequest req = to_request(std::move(*r).value());
  bool keep = req.keep_alive();
  impl_->pending_keep_alive.push_back(keep);
  if (!keep) {
    impl_->close_after = true;
    impl_->reader.stop();  // RFC 9112 9.6: no further request is processed
  }
  return Result<HttpRequest>(std::move(req));
}

Bytes HttpServerCodec::respond(const HttpResponse& res) {
  bool request_keep = true;
  if (!impl_->pending_keep_alive.empty()) {
    request_keep = impl_->pending_keep_alive.front();
    impl_->pending_keep_alive.pop_front();
  }
  if (impl_->reader.failed()) request_keep = false;
  if (!request_keep && res.keep_alive()) {
    HttpResponse closing = res;
    std::erase_if(closing.headers, [](const HttpHeader& h) { return iequals(h.name, "Connection"); });
    closing.headers.push_back({"Connection", "close"});
    impl_->closing = true;
    return serialize(closing);
  }
  if (!request_keep || !res.keep_alive()) impl_->closing = true;
  return serialize(res);
}

bool HttpServerCodec::should_close() const { return impl_->closing || impl_->reader.failed(); }
size_t HttpServerCodec::pending() const { return impl_->pending_keep_alive.size(); }
size_t HttpServerCodec::buffered() const { return impl_->reader.buffered(); }

// -----------------------------------------------------------------------------------------

struct HttpClientCodec::Impl {
  explicit Impl(HttpLimits l) : reader(l) {}
  MessageReader<false> reader;
  bool closing = false;
};

HttpClientCodec::HttpClientCodec(HttpLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
HttpClientCodec::~HttpClientCodec() = default;
HttpClientCodec::HttpClientCodec(HttpClientCodec&&) noexcept = default;
HttpClientCodec& HttpClientCodec::operator=(HttpClientCodec&&) noexcept = default;

Bytes HttpClientCodec::request(const HttpRequest& req) { return serialize(req); }
void HttpClientCodec::feed(ByteView bytes) { impl_->reader.feed(bytes); }
void HttpClientCodec::feed_eof() {
  impl_->reader.feed_eof();
  impl_->closing = true;
}

std::optional<Result<HttpResponse>> HttpClientCodec::next() {
  auto r = impl_->reader.next();
  if (!r) return std::nullopt;
  if (!r->ok()) return Result<HttpResponse>(r->error());
  HttpResponse res = to_response(std::move(*r).value());
  if (!res.keep_alive()) {
    impl_->closing = true;
    impl_->reader.stop();
  }
  return Result<HttpResponse>(std::move(res));
}

bool HttpClientCodec::should_close() const { return impl_->closing || impl_->reader.failed(); }
size_t HttpClientCodec::buffered() const { return impl_->reader.buffered(); }

}  // namespace mz::l7
