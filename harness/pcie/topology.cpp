#include "harness/pcie/topology.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "harness/toml/reader.hpp"

namespace dexthil::pcie {

const char* to_string(NodeKind kind) {
  switch (kind) {
    case NodeKind::kRootPort: return "root-port";
    case NodeKind::kSwitchUpstream: return "switch-upstream";
    case NodeKind::kSwitchDownstream: return "switch-downstream";
    case NodeKind::kPcieToPciBridge: return "pcie-to-pci-bridge";
    case NodeKind::kPciBridge: return "pci-bridge";
    case NodeKind::kEndpoint: return "endpoint";
  }
  return "?";
}

const char* describe(NodeKind kind) {
  switch (kind) {
    case NodeKind::kRootPort: return "root port";
    case NodeKind::kSwitchUpstream: return "switch upstream port";
    case NodeKind::kSwitchDownstream: return "switch downstream port";
    case NodeKind::kPcieToPciBridge: return "PCIe-to-PCI/PCI-X bridge";
    case NodeKind::kPciBridge: return "PCI-to-PCI bridge (no PCIe capability)";
    case NodeKind::kEndpoint: return "endpoint";
  }
  return "?";
}

const char* to_string(RequesterIdBehaviour b) {
  switch (b) {
    case RequesterIdBehaviour::kTakesOwnership: return "takes-ownership";
    case RequesterIdBehaviour::kForwards: return "forwards";
    case RequesterIdBehaviour::kMixed: return "mixed";
  }
  return "?";
}

bool in_linux_pcie_bridge_alias_quirk(const PciIds& ids) {
  // The DECLARE_PCI_FIXUP_HEADER lines for quirk_use_pcie_bridge_dma_alias in Linux's
  // drivers/pci/quirks.c (vendors ASMedia, Tundra, ITE, ITE, Intel).
  static constexpr std::uint16_t kIds[][2] = {
      {0x1b21, 0x1080}, {0x10e3, 0x8113}, {0x1283, 0x8892}, {0x1283, 0x8893}, {0x8086, 0x244e}};
  for (const auto& id : kIds) {
    if (ids.vendor == id[0] && ids.device == id[1]) return true;
  }
  return false;
}

bool Node::is_conventional() const {
  for (const Node* p = parent; p; p = p->parent) {
    if (p->kind == NodeKind::kPcieToPciBridge || p->kind == NodeKind::kPciBridge) return true;
  }
  return false;
}

const Node* Node::root_port() const {
  const Node* n = this;
  while (n->parent) n = n->parent;
  return n;
}

Node* Topology::find(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n->name == name) return n.get();
  }
  return nullptr;
}

std::vector<Node*> Topology::endpoints() const {
  std::vector<Node*> out;
  for (const auto& n : nodes) {
    if (n->kind == NodeKind::kEndpoint) out.push_back(n.get());
  }
  return out;
}

std::vector<Node*> Topology::endpoints_below(const Node& bridge) const {
  std::vector<Node*> out;
  for (Node* ep : endpoints()) {
    for (const Node* p = ep->parent; p; p = p->parent) {
      if (p == &bridge) {
        out.push_back(ep);
        break;
      }
    }
  }
  return out;
}

namespace {

const std::map<std::string, NodeKind, std::less<>> kKinds = {
    {"root-port", NodeKind::kRootPort},
    {"switch-upstream", NodeKind::kSwitchUpstream},
    {"switch-downstream", NodeKind::kSwitchDownstream},
    {"pcie-to-pci-bridge", NodeKind::kPcieToPciBridge},
    {"pci-bridge", NodeKind::kPciBridge},
    {"endpoint", NodeKind::kEndpoint},
};

// Class codes a bridge has unless the file says otherwise (PCI Code and ID Assignment spec).
std::uint32_t default_class(NodeKind kind) { return kind == NodeKind::kEndpoint ? 0xff0000 : 0x060400; }

std::string with_article(NodeKind kind) { return (kind == NodeKind::kEndpoint ? "an " : "a ") + std::string(describe(kind)); }

// Which kinds may hang below which: the tree must be one real hardware could form.
bool allowed_below(NodeKind parent, NodeKind child) {
  switch (parent) {
    case NodeKind::kRootPort:
    case NodeKind::kSwitchDownstream:
      return child != NodeKind::kRootPort && child != NodeKind::kSwitchDownstream;
    case NodeKind::kSwitchUpstream: return child == NodeKind::kSwitchDownstream;
    case NodeKind::kPcieToPciBridge:
    case NodeKind::kPciBridge: return child == NodeKind::kEndpoint || child == NodeKind::kPciBridge;
    case NodeKind::kEndpoint: return false;
  }
  return false;
}

class TopologyReader : public toml_input::TomlReader {
 public:
  using TomlReader::TomlReader;

  Topology read(const toml::table& root) {
    Topology topo;
    topo.file = file();
    allow_keys(root, "", {"topology", "node"});
    const toml::table& head = table(root, "topology", "", true);
    allow_keys(head, "topology", {"name", "description"});
    topo.name = string(head, "name", "topology", true).value();
    if (!is_identifier(topo.name)) fail(*head.get("name"), "topology.name", "\"" + topo.name + "\" is not a valid name");
    topo.description = string(head, "description", "topology", false).value_or("");
    if (!root.get("node")) fail(root, "node", "a topology needs at least one [[node]] (a root port)");
    for_each_table(root, "node", [&](const toml::table& t, const std::string& path) { read_node(topo, t, path); });
    check_sids(topo);
    return topo;
  }

 private:
  void read_node(Topology& topo, const toml::table& t, const std::string& path) {
    auto node = std::make_unique<Node>();
    Node& n = *node;
    n.pos = pos(t);
    n.name = string(t, "name", path, true).value();
    if (!is_identifier(n.name)) fail(*t.get("name"), path + ".name", "\"" + n.name + "\" is not a valid node name");
    if (topo.find(n.name)) fail(*t.get("name"), path + ".name", "a node named \"" + n.name + "\" is already defined");
    const std::string kind = one_of(t, "kind", path,
                                    {"root-port", "switch-upstream", "switch-downstream", "pcie-to-pci-bridge", "pci-bridge", "endpoint"});
    n.kind = kKinds.find(kind)->second;

    // Keys every kind takes, then the ones only some kinds take.
    switch (n.kind) {
      case NodeKind::kRootPort:
        allow_keys(t, path, {"name", "kind", "ids", "class", "revision", "device", "hop_latency", "link", "stall", "iommu",
                             "dart", "dart_generation", "dart_sids", "unlisted_rid_sid", "iova_base", "read_completion_boundary",
                             "iotlb_miss"});
        break;
      case NodeKind::kSwitchUpstream:
      case NodeKind::kSwitchDownstream:
        allow_keys(t, path, {"name", "kind", "parent", "ids", "class", "revision", "device", "hop_latency", "link", "stall", "tunnel"});
        break;
      case NodeKind::kPcieToPciBridge:
        allow_keys(t, path, {"name", "kind", "parent", "ids", "class", "revision", "device", "hop_latency", "link", "stall",
                             "tunnel", "requester_id", "alias_probability", "secondary_bus"});
        break;
      case NodeKind::kPciBridge:
        allow_keys(t, path, {"name", "kind", "parent", "ids", "class", "revision", "device", "hop_latency", "link", "stall",
                             "tunnel", "requester_id", "alias_probability", "secondary_bus", "pcie_bridge_alias"});
        break;
      case NodeKind::kEndpoint:
        allow_keys(t, path, {"name", "kind", "parent", "ids", "class", "revision", "device", "function", "hop_latency",
                             "link", "stall", "tunnel", "bars", "dma_address_bits", "sid"});
        break;
    }

    const std::string ids = string(t, "ids", path, true).value();
    auto parsed = parse_ids(ids);
    if (!parsed) fail(*t.get("ids"), path + ".ids", "\"" + ids + "\" is not vendor:device in hex, such as \"1000:0030\"");
    n.ids = *parsed;
    n.class_code = static_cast<std::uint32_t>(integer(t, "class", path, 0, 0xffffff).value_or(default_class(n.kind)));
    n.revision = static_cast<std::uint8_t>(integer(t, "revision", path, 0, 255).value_or(0));
    // Root ports default to consecutive devices on bus 0; everything else to device 0.
    const std::int64_t default_device = n.kind == NodeKind::kRootPort ? static_cast<std::int64_t>(topo.root_ports.size()) : 0;
    n.device = static_cast<std::uint8_t>(integer(t, "device", path, 0, 31).value_or(default_device));
    n.function = static_cast<std::uint8_t>(integer(t, "function", path, 0, 7).value_or(0));
    n.hop_latency = duration(t, "hop_latency", path, false, 0, sim::kMillisecond).value_or(n.hop_latency);
    n.tunnel = boolean(t, "tunnel", path).value_or(false);
    if (t.get("stall")) n.stall = read_stall(as_table(*t.get("stall"), path + ".stall"), path + ".stall");

    if (n.kind == NodeKind::kRootPort) {
      if (t.get("parent")) fail(*t.get("parent"), path + ".parent", "a root port has no parent");
      read_root_port(n, t, path);
      for (const Node* rp : topo.root_ports) {
        if (rp->device == n.device) {
          fail(t.get("device") ? *t.get("device") : static_cast<const toml::node&>(t), path + ".device",
               "device " + std::to_string(n.device) + " on bus 0 is already root port \"" + rp->name + "\"");
        }
      }
    } else {
      const std::string parent = string(t, "parent", path, true).value();
      Node* p = topo.find(parent);
      if (!p) fail(*t.get("parent"), path + ".parent", "no node named \"" + parent + "\" before this one (a parent must come first)");
      if (!allowed_below(p->kind, n.kind)) {
        fail(*t.get("parent"), path + ".parent",
             with_article(n.kind) + " cannot sit below \"" + parent + "\", which is " + with_article(p->kind));
      }
      // A PCIe link is point to point: below a downstream port there is only device 0.
      if ((p->kind == NodeKind::kRootPort || p->kind == NodeKind::kSwitchDownstream) && n.device != 0) {
        fail(*t.get("device"), path + ".device",
             "device " + std::to_string(n.device) + " below " + describe(p->kind) + " \"" + parent +
                 "\": a PCIe link has only device 0 on its secondary bus");
      }
      for (const Node* sibling : p->children) {
        if (sibling->device == n.device && sibling->function == n.function) {
          fail(t, path + ".device",
               "device " + std::to_string(n.device) + " function " + std::to_string(n.function) + " below \"" + parent +
                   "\" is already \"" + sibling->name + "\"");
        }
      }
      n.parent = p;
    }

    if (n.is_conventional()) {
      if (t.get("link")) fail(*t.get("link"), path + ".link", "a conventional PCI device below a bridge to PCI has no PCIe link");
    } else {
      n.link = read_link(table(t, "link", path, false), path + ".link");
    }
    if (n.kind == NodeKind::kPcieToPciBridge || n.kind == NodeKind::kPciBridge) {
      const std::string b = one_of(t, "requester_id", path, {"takes-ownership", "forwards", "mixed"}, "takes-ownership");
      n.rid_behaviour = b == "forwards" ? RequesterIdBehaviour::kForwards
                        : b == "mixed"  ? RequesterIdBehaviour::kMixed
                                        : RequesterIdBehaviour::kTakesOwnership;
      if (auto p = number(t, "alias_probability", path, 0.0, 1.0)) {
        if (n.rid_behaviour != RequesterIdBehaviour::kMixed) {
          fail(*t.get("alias_probability"), path + ".alias_probability", "applies only with requester_id = \"mixed\"");
        }
        n.alias_probability = *p;
      }
      n.pcix_secondary = one_of(t, "secondary_bus", path, {"pci", "pci-x"}, "pci") == "pci-x";
      // On conventional PCI the transaction carries no requester ID the bridge could pass on, so
      // it takes ownership of every one; only PCI-X carries the requester's (PCIe-to-PCI/PCI-X
      // Bridge spec r1.0, 2.3).
      if (n.rid_behaviour != RequesterIdBehaviour::kTakesOwnership && !n.pcix_secondary) {
        fail(*t.get("requester_id"), path + ".requester_id",
             "\"" + b + "\" needs secondary_bus = \"pci-x\": on a conventional PCI secondary bus no requester ID "
             "travels with a transaction, so the bridge takes ownership of every one");
      }
      if (n.kind == NodeKind::kPciBridge) read_pcie_bridge_alias(n, t, path);
    }
    if (n.kind == NodeKind::kEndpoint) read_endpoint(n, t, path);

    if (n.parent) n.parent->children.push_back(&n);
    if (n.kind == NodeKind::kRootPort) topo.root_ports.push_back(&n);
    topo.nodes.push_back(std::move(node));
  }

  // Linux flags a PCI bridge as a hidden PCIe-to-PCI bridge only where it sits directly below a
  // PCIe port that is not itself a PCIe-to-PCI bridge (quirk_use_pcie_bridge_dma_alias).
  void read_pcie_bridge_alias(Node& n, const toml::table& t, const std::string& path) const {
    const bool on_pcie_port =
        n.parent->kind == NodeKind::kRootPort || n.parent->kind == NodeKind::kSwitchDownstream;
    if (auto given = boolean(t, "pcie_bridge_alias", path)) {
      if (*given && !on_pcie_port) {
        fail(*t.get("pcie_bridge_alias"), path + ".pcie_bridge_alias",
             "only a bridge directly below a root port or switch downstream port can be a PCIe-to-PCI bridge without "
             "its PCIe capability (Linux's PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS); \"" + n.parent->name + "\" is " +
                 with_article(n.parent->kind));
      }
      n.pcie_bridge_alias = *given;
      return;
    }
    n.pcie_bridge_alias = on_pcie_port && in_linux_pcie_bridge_alias_quirk(n.ids);
    n.pcie_bridge_alias_from_quirk = n.pcie_bridge_alias;
  }

  void read_root_port(Node& n, const toml::table& t, const std::string& path) {
    n.has_dart = one_of(t, "iommu", path, {"dart", "none"}, "dart") == "dart";
    if (!n.has_dart) {
      // A port without an IOMMU (an Intel Mac with VT-d off): the DART's keys mean nothing there.
      for (const char* key : {"dart", "dart_generation", "dart_sids", "unlisted_rid_sid", "iova_base", "iotlb_miss"}) {
        if (const toml::node* v = t.get(key)) fail(*v, path + "." + key, "only a root port with iommu = \"dart\" takes this key");
      }
    }
    n.dart.instance = string(t, "dart", path, false).value_or("dart-" + n.name);
    const std::string gen = one_of(t, "dart_generation", path, {"t8110", "t8020"}, "t8110");
    n.dart.generation = gen == "t8020" ? iommu::DartGeneration::kT8020 : iommu::DartGeneration::kT8110;
    const std::int64_t max_sids = gen == "t8020" ? 16 : 256;
    n.dart.num_sids = static_cast<std::uint32_t>(integer(t, "dart_sids", path, 1, max_sids).value_or(16));
    n.unlisted_rid_sid =
        static_cast<std::uint32_t>(integer(t, "unlisted_rid_sid", path, 0, n.dart.num_sids - 1).value_or(0));
    if (auto base = integer(t, "iova_base", path, 0, (std::int64_t{1} << 36) - 1)) {
      if (*base % (16 * 1024)) fail(*t.get("iova_base"), path + ".iova_base", "must be a multiple of the 16 KiB page size");
      n.iova_base = static_cast<std::uint64_t>(*base);
    }
    n.read_completion_boundary = static_cast<std::uint32_t>(integer(t, "read_completion_boundary", path, 64, 128).value_or(64));
    if (n.read_completion_boundary != 64 && n.read_completion_boundary != 128) {
      fail(*t.get("read_completion_boundary"), path + ".read_completion_boundary", "the read completion boundary is 64 or 128 bytes");
    }
    n.iotlb_miss = duration(t, "iotlb_miss", path, false, 0, sim::kMillisecond).value_or(n.iotlb_miss);
  }

  StallSpec read_stall(const toml::table& t, const std::string& path) {
    StallSpec st;
    const std::string kind = one_of(t, "kind", path, {"fixed", "uniform", "lognormal", "heavy-tail"});
    const sim::SimTime kMax = sim::kSecond;
    if (kind == "fixed") {
      allow_keys(t, path, {"kind", "delay"});
      st.kind = StallSpec::Kind::kFixed;
      st.fixed = duration(t, "delay", path, true, 0, kMax).value();
    } else if (kind == "lognormal") {
      allow_keys(t, path, {"kind", "median", "sigma"});
      st.kind = StallSpec::Kind::kLognormal;
      st.median = duration(t, "median", path, true, 1, kMax).value();
      if (!t.get("sigma")) fail(t, path + ".sigma", "missing required key \"sigma\" (the spread of ln(stall), such as 0.5)");
      st.sigma = number(t, "sigma", path, 0.0, 5.0).value();
    } else {
      const bool heavy = kind == "heavy-tail";
      if (heavy) allow_keys(t, path, {"kind", "min", "max", "spike", "spike_probability"});
      else allow_keys(t, path, {"kind", "min", "max"});
      st.kind = heavy ? StallSpec::Kind::kHeavyTail : StallSpec::Kind::kUniform;
      st.min = duration(t, "min", path, true, 0, kMax).value();
      st.max = duration(t, "max", path, true, 0, kMax).value();
      if (st.max < st.min) fail(*t.get("max"), path + ".max", "\"max\" is below \"min\"");
      if (heavy) {
        st.spike = duration(t, "spike", path, true, 0, kMax).value();
        if (!t.get("spike_probability")) fail(t, path + ".spike_probability", "missing required key \"spike_probability\"");
        st.spike_probability = number(t, "spike_probability", path, 0.0, 1.0).value();
      }
    }
    return st;
  }

  LinkSpec read_link(const toml::table& t, const std::string& path) {
    allow_keys(t, path, {"gen", "width", "aspm", "aspm_enabled", "l0s_exit", "l1_exit", "l0s_entry_idle", "l1_entry_idle"});
    LinkSpec l;
    l.gen = static_cast<std::uint8_t>(integer(t, "gen", path, 1, 5).value_or(l.gen));
    l.width = static_cast<std::uint8_t>(integer(t, "width", path, 1, 32).value_or(l.width));
    if (l.width & (l.width - 1)) fail(*t.get("width"), path + ".width", "a link is x1, x2, x4, x8, x16 or x32");
    const auto aspm = string_list(t, "aspm", path);
    for (std::size_t i = 0; i < aspm.size(); ++i) {
      if (aspm[i] == "L0s") l.l0s_supported = true;
      else if (aspm[i] == "L1") l.l1_supported = true;
      else fail(*t.get("aspm")->as_array()->get(i), path + ".aspm[" + std::to_string(i) + "]", "\"" + aspm[i] + "\" is not L0s or L1");
    }
    const auto enabled = string_list(t, "aspm_enabled", path);
    for (std::size_t i = 0; i < enabled.size(); ++i) {
      const toml::node& item = *t.get("aspm_enabled")->as_array()->get(i);
      const std::string key = path + ".aspm_enabled[" + std::to_string(i) + "]";
      if (enabled[i] == "L0s" && l.l0s_supported) l.l0s_enabled = true;
      else if (enabled[i] == "L1" && l.l1_supported) l.l1_enabled = true;
      else if (enabled[i] == "L0s" || enabled[i] == "L1") fail(item, key, enabled[i] + " is enabled but not listed in \"aspm\" as supported");
      else fail(item, key, "\"" + enabled[i] + "\" is not L0s or L1");
    }
    l.l0s_exit = static_cast<std::uint8_t>(integer(t, "l0s_exit", path, 0, 7).value_or(0));
    l.l1_exit = static_cast<std::uint8_t>(integer(t, "l1_exit", path, 0, 7).value_or(0));
    l.l0s_entry_idle = duration(t, "l0s_entry_idle", path, false, 0, sim::kSecond).value_or(l.l0s_entry_idle);
    l.l1_entry_idle = duration(t, "l1_entry_idle", path, false, 0, sim::kSecond).value_or(l.l1_entry_idle);
    return l;
  }

  void read_endpoint(Node& n, const toml::table& t, const std::string& path) {
    if (const toml::node* bars = t.get("bars")) {
      if (!bars->is_array_of_tables()) {
        fail(*bars, path + ".bars", std::string("expected an array of tables such as [{ size = \"16KiB\" }], got ") + type_name(*bars));
      }
      const toml::array& arr = *bars->as_array();
      unsigned slots = 0;
      for (std::size_t i = 0; i < arr.size(); ++i) {
        const std::string bpath = path + ".bars[" + std::to_string(i) + "]";
        const toml::table& b = *arr.get(i)->as_table();
        allow_keys(b, bpath, {"size", "bits", "prefetchable"});
        if (!b.get("size")) fail(b, bpath + ".size", "missing required key \"size\"");
        BarSpec bar;
        bar.size = size_value(*b.get("size"), bpath + ".size", true);
        if (bar.size < 16) fail(*b.get("size"), bpath + ".size", "a memory BAR is at least 16 bytes");
        const auto bits = integer(b, "bits", bpath, 32, 64).value_or(32);
        if (bits != 32 && bits != 64) fail(*b.get("bits"), bpath + ".bits", "a BAR is 32 or 64 bits wide");
        bar.is64 = bits == 64;
        if (!bar.is64 && bar.size > (1ULL << 31)) fail(*b.get("size"), bpath + ".size", "a 32-bit BAR holds at most 2 GiB");
        bar.prefetchable = boolean(b, "prefetchable", bpath).value_or(false);
        slots += bar.is64 ? 2 : 1;
        if (slots > 6) fail(b, bpath, "the BARs need more than the six 32-bit BAR registers a type 0 header has");
        n.bars.push_back(bar);
      }
    }
    n.dma_address_bits = static_cast<std::uint32_t>(integer(t, "dma_address_bits", path, 32, 64).value_or(64));
    if (auto sid = integer(t, "sid", path, 0, 255)) n.sid = static_cast<std::uint32_t>(*sid);
  }

  void check_sids(const Topology& topo) const {
    for (const Node* rp : topo.root_ports) {
      std::map<std::uint32_t, const Node*> pinned;
      for (std::size_t i = 0; i < topo.nodes.size(); ++i) {
        const auto& n = topo.nodes[i];
        if (n->kind != NodeKind::kEndpoint || !n->sid || n->root_port() != rp) continue;
        const std::string key = "node[" + std::to_string(i) + "].sid";
        if (!rp->has_dart) fail_at(n->pos, key, "root port \"" + rp->name + "\" has no DART, so there is no SID to pin");
        if (*n->sid >= rp->dart.num_sids) {
          fail_at(n->pos, key, "SID " + std::to_string(*n->sid) + " is beyond " + rp->dart.instance + "'s " +
                                                std::to_string(rp->dart.num_sids) + " SIDs");
        }
        auto [it, fresh] = pinned.emplace(*n->sid, n.get());
        if (!fresh) {
          fail_at(n->pos, key, "SID " + std::to_string(*n->sid) + " is already pinned to \"" + it->second->name + "\"");
        }
      }
    }
  }
};

}  // namespace

std::optional<Topology> load_topology_text(const std::string& text, const std::string& path, std::string* error) {
  std::optional<Topology> topo;
  toml_input::parse(text, path, [&](const toml::table& root) { topo = TopologyReader(path).read(root); }, error);
  return topo;
}

std::optional<Topology> load_topology(const std::string& path, std::string* error) {
  std::string text;
  if (!toml_input::read_file(path, &text, error)) return std::nullopt;
  return load_topology_text(text, path, error);
}

}  // namespace dexthil::pcie
