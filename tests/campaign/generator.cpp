#include "generator.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "megzawicol/core/rng.hpp"

namespace mz::campaign {

namespace {

using json = nlohmann::ordered_json;

enum class Kind { Host, Router, Switch };

struct GNode {
  std::string name;
  Kind kind = Kind::Host;
  json ifaces = json::array();
  int lan = -1;                          // hosts: their LAN
  std::optional<std::string> gateway;    // hosts: default route via this address
  std::string first_addr;                // hosts: their (only) address
};

struct GLink {
  int a, b;                              // node indices
  std::string a_if, b_if;
  bool lan = false;
  int lan_index = -1;
};

struct Gen {
  Rng r;
  Rng side;  // draws added after seeds were published, kept out of r's sequence
  Limits lim;
  std::vector<GNode> nodes;
  std::vector<GLink> links;

  explicit Gen(uint64_t seed, Limits l) : r(seed), side(Rng::stream(seed, "campaign-side")), lim(l) {}

  uint64_t uni(uint64_t lo, uint64_t hi) { return r.uniform_int(lo, hi); }
  bool chance(double p) { return r.bernoulli(p); }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[uni(0, v.size() - 1)]; }

  int add_node(const std::string& name, Kind k) {
    nodes.push_back({name, k});
    return static_cast<int>(nodes.size() - 1);
  }
  std::string add_iface(int n, const std::string& addr) {
    json& ifs = nodes[n].ifaces;
    const std::string name = "eth" + std::to_string(ifs.size());
    json i = {{"name", name}};
    if (!addr.empty()) i["address"] = addr;
    ifs.push_back(i);
    return name;
  }

  // Impairments of one direction (or of the link, before per-direction overrides).
  json direction(bool allow_extreme) {
    json d = json::object();
    if (chance(0.3)) {
      static const std::vector<std::string> bws = {"56kbps", "512kbps", "2Mbps", "10Mbps", "100Mbps", "1Gbps"};
      d["bandwidth"] = pick(bws);
    }
    if (chance(0.5)) d["delay"] = std::to_string(uni(0, 50)) + "ms";
    if (chance(0.35)) {
      const uint64_t k = uni(0, 9);
      double loss = k < 5 ? 0.001 * static_cast<double>(uni(1, 20))       // up to 2%
                    : k < 8 ? 0.01 * static_cast<double>(uni(2, 15))       // up to 15%
                            : 0.01 * static_cast<double>(uni(15, allow_extreme ? 50 : 20));
      d["loss"] = loss;
    }
    if (chance(0.2)) {
      static const std::vector<double> bers = {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3};
      const double ber = allow_extreme ? pick(bers) : bers[uni(0, 3)];
      d["ber"] = ber;
    }
    if (chance(0.15)) d["duplicate"] = 0.01 * static_cast<double>(uni(1, 10));
    if (chance(0.25)) d["jitter"] = std::to_string(uni(1, 30)) + "ms";
    if (chance(0.15)) d["queue"] = uni(2, 200);
    return d;
  }

  json link_json(const GLink& l, uint32_t mtu, uint32_t cost) {
    json j = {{"ends", {nodes[l.a].name + ":" + l.a_if, nodes[l.b].name + ":" + l.b_if}}};
    const bool extreme = chance(0.25);
    json base = direction(extreme);
    for (auto& [k, v] : base.items()) j[k] = v;
    if (mtu != 1500) j["mtu"] = mtu;
    if (cost != 1) j["cost"] = cost;
    if (chance(0.3)) j["a_to_b"] = direction(extreme);
    if (chance(0.3)) j["b_to_a"] = direction(extreme);
    return j;
  }

  uint32_t random_mtu() {
    static const std::vector<uint32_t> mtus = {68, 96, 296, 576, 1006, 1280, 1500, 1500, 1500, 1500, 9000};
    return chance(0.6) ? 1500 : pick(mtus);
  }

  static std::string ip(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
           std::to_string(a & 255);
  }

  std::string build(uint64_t seed) {
    const int n_routers = static_cast<int>(uni(1, 8));
    int n_lans = static_cast<int>(uni(1, 6));
    if (n_routers == 1) n_lans = std::max(n_lans, 2);
    std::vector<int> routers;
    for (int i = 0; i < n_routers; ++i) routers.push_back(add_node("r" + std::to_string(i), Kind::Router));

    json jlinks = json::array();
    std::vector<uint32_t> mtus_used;
    // Backbone: a random tree plus extra links, /30 each from 172.16.0.0.
    std::vector<std::pair<int, int>> p2p;
    for (int i = 1; i < n_routers; ++i) p2p.push_back({static_cast<int>(uni(0, i - 1)), i});
    const int extra = n_routers >= 3 ? static_cast<int>(uni(0, n_routers / 2)) : 0;
    for (int e = 0; e < extra; ++e) {
      int a = static_cast<int>(uni(0, n_routers - 1)), b = static_cast<int>(uni(0, n_routers - 1));
      if (a != b) p2p.push_back({a, b});
    }
    uint32_t next30 = (172u << 24) | (16u << 16);
    for (auto [a, b] : p2p) {
      GLink l{routers[a], routers[b]};
      l.a_if = add_iface(l.a, ip(next30 + 1) + "/30");
      l.b_if = add_iface(l.b, ip(next30 + 2) + "/30");
      next30 += 4;
      links.push_back(l);
      const uint32_t mtu = random_mtu();
      mtus_used.push_back(mtu);
      jlinks.push_back(link_json(l, mtu, chance(0.5) ? 1 : static_cast<uint32_t>(uni(1, 10))));
    }

    // LANs: 10.<lan+1>.0.0/24; hosts from .1, routers from .254 down.
    int host_count = 0;
    std::vector<std::vector<int>> lan_routers(n_lans);
    std::vector<bool> lan_has_switch(n_lans);
    for (int l = 0; l < n_lans; ++l) {
      lan_has_switch[l] = chance(0.75);
      const bool isolated = lan_has_switch[l] && chance(0.08);
      if (!isolated) {
        lan_routers[l].push_back(static_cast<int>(uni(0, n_routers - 1)));
        if (lan_has_switch[l] && n_routers > 1 && chance(0.3)) {
          int o = static_cast<int>(uni(0, n_routers - 1));
          if (o != lan_routers[l][0]) lan_routers[l].push_back(o);
        }
      }
    }
    // Every router needs two interfaces: attach lonely routers to more LANs.
    auto iface_count = [&](int ri) {
      size_t n = nodes[routers[ri]].ifaces.size();
      for (int l = 0; l < n_lans; ++l)
        for (int x : lan_routers[l]) n += x == ri;
      return n;
    };
    for (int ri = 0; ri < n_routers; ++ri) {
      while (iface_count(ri) < 2) {
        int target = -1;
        for (int l = 0; l < n_lans && target < 0; ++l)
          if (lan_has_switch[l] && std::find(lan_routers[l].begin(), lan_routers[l].end(), ri) == lan_routers[l].end())
            target = l;
        if (target < 0) {
          lan_has_switch.push_back(true);
          lan_routers.push_back({});
          target = n_lans++;
        }
        lan_routers[target].push_back(ri);
      }
    }

    int switch_count = 0;
    for (int l = 0; l < n_lans; ++l) {
      const uint32_t net = (10u << 24) | (static_cast<uint32_t>(l + 1) << 16);
      const uint32_t mtu = random_mtu();
      mtus_used.push_back(mtu);
      const bool lan_extreme = chance(0.3);
      std::vector<int> members;  // IP nodes with their new interface names
      std::vector<std::string> member_if;
      uint32_t rnext = 254;
      std::vector<std::string> gws;
      for (int ri : lan_routers[l]) {
        const std::string a = ip(net + rnext--);
        members.push_back(routers[ri]);
        member_if.push_back(add_iface(routers[ri], a + "/24"));
        gws.push_back(a);
      }
      const int n_hosts = lan_has_switch[l] ? static_cast<int>(uni(1, 4)) : 1;
      for (int h = 0; h < n_hosts; ++h) {
        int n = add_node("h" + std::to_string(host_count++), Kind::Host);
        const std::string a = ip(net + 1 + static_cast<uint32_t>(h));
        nodes[n].lan = l;
        nodes[n].first_addr = a;
        if (!gws.empty() && chance(0.5)) nodes[n].gateway = pick(gws);
        members.push_back(n);
        member_if.push_back(add_iface(n, a + "/24"));
      }
      auto lan_link = [&](GLink g) {
        g.lan = true;
        g.lan_index = l;
        links.push_back(g);
        json j = link_json(g, mtu, 1);
        if (!lan_extreme) {  // most LANs are clean-ish: keep only bandwidth/delay/jitter/dup
          for (const char* k : {"loss", "ber"}) j.erase(k);
          for (const char* d : {"a_to_b", "b_to_a"})
            if (j.contains(d))
              for (const char* k : {"loss", "ber"}) j[d].erase(k);
        }
        jlinks.push_back(j);
      };
      if (!lan_has_switch[l]) {
        // A single cable: the router and the host.
        lan_link(GLink{members[0], members[1], member_if[0], member_if[1]});
        continue;
      }
      const int n_sw = static_cast<int>(uni(1, 3));
      std::vector<int> sws;
      for (int s = 0; s < n_sw; ++s) {
        sws.push_back(add_node("s" + std::to_string(switch_count++), Kind::Switch));
        if (s > 0) {
          const int parent = sws[uni(0, s - 1)];
          const std::string pi = add_iface(parent, "");
          const std::string ci = add_iface(sws[s], "");
          lan_link(GLink{parent, sws[s], pi, ci});
        }
      }
      for (size_t m = 0; m < members.size(); ++m) {
        const int sw = pick(sws);
        const std::string si = add_iface(sw, "");
        if (chance(0.5))
          lan_link(GLink{members[m], sw, member_if[m], si});
        else
          lan_link(GLink{sw, members[m], si, member_if[m]});
      }
    }

    // Nodes as JSON.
    json jnodes = json::array();
    std::vector<int> hosts;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const GNode& n = nodes[i];
      json j = {{"name", n.name}, {"kind", n.kind == Kind::Host ? "host" : n.kind == Kind::Router ? "router" : "switch"},
                {"interfaces", n.ifaces}};
      if (n.kind == Kind::Router) j["routes"] = "auto";
      if (n.kind == Kind::Host) {
        hosts.push_back(static_cast<int>(i));
        if (n.gateway)
          j["routes"] = json::array({{{"to", "default"}, {"via", *n.gateway}}});
        else
          j["routes"] = "auto";
      }
      jnodes.push_back(j);
    }

    // Events: up to three links go down, most come back.
    json jevents = json::array();
    const int n_events = chance(0.5) ? static_cast<int>(uni(1, 3)) : 0;
    for (int e = 0; e < n_events; ++e) {
      const size_t li = uni(0, links.size() - 1);
      const std::string name = nodes[links[li].a].name + ":" + links[li].a_if + "-" + nodes[links[li].b].name + ":" + links[li].b_if;
      const uint64_t down_ms = uni(500, 30'000);
      jevents.push_back({{"at", std::to_string(down_ms) + "ms"}, {"link", name}, {"action", "down"}});
      if (chance(0.7))
        jevents.push_back({{"at", std::to_string(down_ms + uni(100, 20'000)) + "ms"}, {"link", name}, {"action", "up"}});
    }

    // Apps between hosts.
    // Tiny MTUs make 28-byte segments, each fragmented again on smaller links: with loss on
    // top, the retransmission timer backs off to its 120 s ceiling and a long transfer
    // cannot finish within the duration, so transfers are shorter there.
    const uint32_t min_mtu = *std::min_element(mtus_used.begin(), mtus_used.end());
    json japps = json::array();
    const int n_apps = hosts.size() >= 2 ? static_cast<int>(uni(1, 6)) : 0;
    for (int a = 0; a < n_apps; ++a) {
      const int src = pick(hosts);
      int dst = pick(hosts);
      while (dst == src) dst = pick(hosts);
      const std::string name = "app" + std::to_string(a);
      json j = {{"name", name}, {"node", nodes[src].name}, {"target", chance(0.5) ? nodes[dst].name : nodes[dst].first_addr},
                {"start", std::to_string(uni(0, 10'000)) + "ms"}};
      const uint64_t k = uni(0, 99);
      if (k < 40) {
        j["kind"] = "bulk";
        j["port"] = 5001 + a;
        const uint64_t hi = std::min<uint64_t>(min_mtu < 300 ? 10'000 : min_mtu < 576 ? 30'000 : UINT64_MAX, lim.max_bulk_bytes);
        j["bytes"] = uni(std::min<uint64_t>(10'000, hi), hi);
        json t = json::object();
        if (chance(0.3)) t["sack"] = chance(0.5);
        if (chance(0.2)) t["timestamps"] = true;
        if (chance(0.2)) t["delayed_ack"] = false;
        if (chance(0.05)) t["mode"] = "stop-and-wait";
        if (chance(0.1)) t["rcv_buf"] = "8KiB";
        if (chance(0.1)) t["snd_buf"] = "8KiB";
        if (chance(0.1)) t["nagle"] = false;
        if (chance(0.2)) t["initial_window"] = uni(1, 20);
        t["max_retries"] = uni(6, 8);
        j["transport"] = t;
      } else if (k < 65) {
        j["kind"] = "http";
        j["port"] = 7000 + a;
        std::string msg;
        const uint64_t len = uni(1, 300);
        for (uint64_t c = 0; c < len; ++c) msg += static_cast<char>(uni(32, 126));
        j["message"] = msg;
        // keep_alive false: each request on a connection of its own (requests x
        // connections connections). Its request count comes from a stream of its own, so
        // that every other draw, and thus every earlier seed's scenario, stays as it was.
        const bool keep_alive = chance(0.7);
        j["requests"] = keep_alive ? uni(1, 3) : side.uniform_int(1, 3);
        j["connections"] = uni(1, 2);
        j["keep_alive"] = keep_alive;
        j["timeout"] = "120s";  // the deadline of each response, from the connect or the previous one
      } else if (k < 85) {
        j["kind"] = "udp";
        j["port"] = 9000 + a;
        j["size"] = chance(0.3) ? uni(1473, 3000) : uni(12, 1472);
        j["count"] = uni(5, 50);
        j["interval"] = std::to_string(uni(1, 50)) + "ms";
        j["timeout"] = std::to_string(uni(1, 3)) + "s";
      } else {
        j["kind"] = "ping";
        j["count"] = uni(1, 5);
        j["interval"] = std::to_string(uni(200, 1000)) + "ms";
        j["size"] = chance(0.3) ? uni(1473, 2000) : uni(0, 1472);
      }
      japps.push_back(j);
    }

    json doc = {{"name", "campaign-" + std::to_string(seed)},
                {"description", "integrity campaign, generator seed " + std::to_string(seed)},
                {"seed", seed},
                {"duration", "3600s"},
                {"nodes", jnodes},
                {"links", jlinks},
                {"apps", japps},
                {"events", jevents},
                {"routing", {{"recompute", true}, {"delay", std::to_string(uni(0, 2000)) + "ms"}}},
                {"trace", {{"log", false}, {"jsonl", false}, {"pcap", false}, {"summary", true}}}};
    return doc.dump(1);
  }
};

}  // namespace

std::string generate_scenario(uint64_t seed, const Limits& limits) {
  Gen g(seed, limits);
  return g.build(seed);
}

}  // namespace mz::campaign
