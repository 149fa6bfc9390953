#include "megzawicol/stack/switch.hpp"

#include <algorithm>
#include <cstdint>

#include "megzawicol/wire/ethernet.hpp"

namespace mz::stack {

using trace::Field;
using trace::Layer;

namespace {

std::string port_list(const std::vector<uint32_t>& ports) {
  std::string s = ports.size() == 1 ? "port " : "ports ";
  for (size_t i = 0; i < ports.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(ports[i]);
  }
  return s;
}

}  // namespace

Switch::Switch(SwitchConfig cfg, trace::Tracer* tracer)
    : cfg_(std::move(cfg)), tracer_(tracer), up_(cfg_.ports, true) {}

void Switch::emit(Time now, std::string_view event, std::string_view msg, const std::vector<Field>& fields) {
  if (tracing()) tracer_->emit(now, cfg_.name, Layer::DataLink, event, msg, fields);
}

bool Switch::ages() const { return cfg_.aging > Duration::zero() && cfg_.aging != Duration::max(); }

// Time::max() stands for "never" (no aging, or an expiry past the end of the clock).
Time Switch::expiry_from(Time now) const {
  if (!ages() || cfg_.aging.ns > INT64_MAX - now.ns) return Time::max();
  return now + cfg_.aging;
}

std::optional<Transmit> Switch::poll_transmit() {
  if (tx_.empty()) return std::nullopt;
  Transmit t = std::move(tx_.front());
  tx_.pop_front();
  return t;
}

std::optional<Time> Switch::poll_timeout() const {
  if (by_expiry_.empty()) return std::nullopt;
  return by_expiry_.begin()->first;
}

void Switch::handle_timeout(Time now) {
  now_ = std::max(now_, now);
  age(now);
}

void Switch::age(Time now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    const MacAddr mac = by_expiry_.begin()->second;
    by_expiry_.erase(by_expiry_.begin());
    auto it = table_.find(mac);
    if (it == table_.end()) continue;
    const uint32_t port = it->second.port;
    table_.erase(it);
    ++ctr_.aged;
    if (tracing()) {
      emit(now, "aged_out",
           "aged out " + mac.to_string() + " on port " + std::to_string(port) + " (not seen for " +
               format_duration(cfg_.aging) + ")",
           {{"mac", mac.to_string()}, {"port", uint64_t{port}}});
    }
  }
}

std::optional<uint32_t> Switch::lookup(MacAddr mac) const {
  auto it = table_.find(mac);
  if (it == table_.end()) return std::nullopt;
  return it->second.port;
}

void Switch::set_port_up(Time now, uint32_t port, bool up) {
  now_ = std::max(now_, now);
  if (port >= up_.size() || up_[port] == up) return;
  up_[port] = up;
  if (up) {
    emit(now, "port_up", "port " + std::to_string(port) + " up", {{"port", uint64_t{port}}});
    return;
  }
  uint64_t n = 0;
  for (auto it = table_.begin(); it != table_.end();) {
    if (it->second.port != port) {
      ++it;
      continue;
    }
    by_expiry_.erase({it->second.expires, it->first});
    it = table_.erase(it);
    ++n;
  }
  ctr_.flushed += n;
  if (tracing()) {
    emit(now, "port_down",
         "port " + std::to_string(port) + " down, " + std::to_string(n) + (n == 1 ? " entry" : " entries") +
             " flushed",
         {{"port", uint64_t{port}}, {"flushed", n}});
  }
}

void Switch::drop(Time now, uint32_t port, size_t len, uint64_t& counter, std::string_view event,
                  std::string_view cause) {
  ++counter;
  if (tracing()) {
    emit(now, event,
         "frame of " + std::to_string(len) + " bytes on port " + std::to_string(port) + " dropped: " +
             std::string(cause),
         {{"port", uint64_t{port}}, {"len", uint64_t{len}}, {"reason", std::string(cause)}});
  }
}

void Switch::learn(Time now, MacAddr src, uint32_t port) {
  // Group addresses never appear as a station's source; the all-zero address is no station.
  if (src.is_multicast() || src == MacAddr::zero()) return;
  const Time expires = expiry_from(now);
  auto it = table_.find(src);
  if (it != table_.end()) {
    Entry& e = it->second;
    if (e.expires != expires) {
      if (e.expires != Time::max()) by_expiry_.erase({e.expires, src});
      if (expires != Time::max()) by_expiry_.insert({expires, src});
      e.expires = expires;
    }
    if (e.port != port) {
      ++ctr_.moved;
      if (tracing()) {
        emit(now, "moved",
             "moved " + src.to_string() + " from port " + std::to_string(e.port) + " to port " + std::to_string(port),
             {{"mac", src.to_string()}, {"from", uint64_t{e.port}}, {"port", uint64_t{port}}});
      }
      e.port = port;
    }
    return;
  }
  if (table_.size() >= cfg_.max_entries) {
    ++ctr_.table_full;
    if (tracing()) {
      emit(now, "table_full",
           "table full (" + std::to_string(cfg_.max_entries) + " entries), " + src.to_string() + " on port " +
               std::to_string(port) + " not learned",
           {{"mac", src.to_string()}, {"port", uint64_t{port}}});
    }
    return;
  }
  table_.emplace(src, Entry{port, expires});
  if (expires != Time::max()) by_expiry_.insert({expires, src});
  ++ctr_.learned;
  if (tracing()) {
    emit(now, "learned", "learned " + src.to_string() + " on port " + std::to_string(port),
         {{"mac", src.to_string()}, {"port", uint64_t{port}}});
  }
}

void Switch::handle_frame(Time now, uint32_t port, PacketBuf frame, bool rx_error) {
  if (port >= up_.size()) return;
  now_ = std::max(now_, now);
  ++ctr_.frames_in;
  age(now);
  if (!up_[port]) return drop(now, port, frame.size(), ctr_.drop_port_down, "port_down", "the port is down");
  if (rx_error) {
    return drop(now, port, frame.size(), ctr_.drop_rx_error, "rx_error",
                "the PHY signalled a receive error (invalid code groups)");
  }
  if (frame.size() < wire::kEthMinFrame) {
    return drop(now, port, frame.size(), ctr_.drop_runt, "runt",
                "runt, shorter than the " + std::to_string(wire::kEthMinFrame) + "-byte minimum");
  }
  if (!wire::fcs_ok(frame.view())) return drop(now, port, frame.size(), ctr_.drop_fcs, "fcs_error", "bad FCS");

  const uint8_t* p = frame.data();
  MacAddr dst, src;
  std::copy(p, p + 6, dst.b.begin());
  std::copy(p + 6, p + 12, src.b.begin());
  learn(now, src, port);

  const auto fields = [&](std::vector<Field> extra) {
    extra.push_back({"src", src.to_string()});
    extra.push_back({"dst", dst.to_string()});
    extra.push_back({"ethertype", uint64_t{load_be16(p + 12)}});
    extra.push_back({"len", uint64_t{frame.size()}});
    return extra;
  };

  if (!dst.is_multicast()) {
    if (auto out = lookup(dst)) {
      if (*out == port) {
        ++ctr_.filtered;
        if (tracing()) {
          emit(now, "filtered",
               "frame " + src.to_string() + ">" + dst.to_string() + " filtered (destination on the ingress port " +
                   std::to_string(port) + ")",
               fields({{"port", uint64_t{port}}}));
        }
        return;
      }
      ++ctr_.forwarded;
      if (tracing()) {
        emit(now, "forward",
             "forwarding frame " + src.to_string() + ">" + dst.to_string() + " from port " + std::to_string(port) +
                 " to port " + std::to_string(*out),
             fields({{"in", uint64_t{port}}, {"out", uint64_t{*out}}}));
      }
      ++ctr_.frames_out;
      tx_.push_back(Transmit{*out, std::move(frame)});
      return;
    }
  }

  // Flood: broadcast, multicast (no IGMP snooping) or unknown unicast.
  std::vector<uint32_t> outs;
  for (uint32_t i = 0; i < up_.size(); ++i) {
    if (i != port && up_[i]) outs.push_back(i);
  }
  ++ctr_.flooded;
  if (tracing()) {
    const std::string what = dst.is_broadcast()   ? std::string("broadcast")
                             : dst.is_multicast() ? "multicast " + src.to_string() + ">" + dst.to_string()
                                                  : "unknown unicast " + src.to_string() + ">" + dst.to_string();
    std::string msg = "flooding " + what + " from port " + std::to_string(port);
    msg += outs.empty() ? std::string(": no other port is up") : " to " + port_list(outs);
    emit(now, "flood", msg, fields({{"in", uint64_t{port}}, {"copies", uint64_t{outs.size()}}}));
  }
  // A copy for every port but the last, which takes the frame itself.
  if (outs.empty()) return;
  for (size_t i = 0; i + 1 < outs.size(); ++i) {
    ++ctr_.frames_out;
    tx_.push_back(Transmit{outs[i], PacketBuf::from(frame.view())});
  }
  ++ctr_.frames_out;
  tx_.push_back(Transmit{outs.back(), std::move(frame)});
}

}  // namespace mz::stack
