// Model types with a serial port (test-only ones here; the UPS's RS-232 port will be the first
// real one): two models on one line talk in exact serial time, a UART set up differently is a
// serial.framing-error finding, and the loader refuses what the types' ports do not allow.
#include <gtest/gtest.h>

#include "harness/runner/run.hpp"
#include "harness/scenario/loader.hpp"
#include "models/builtin_models.hpp"

namespace dexthil::runner {
namespace {

serial::Settings settings_param(const ModelContext& ctx) {
  std::string error;
  return *serial::parse_settings(ctx.spec.params.at("uart").string, &error);
}

// Sends "Q1\r" at power-on, as NUT's blazer_ser polls a Megatec/Q1 UPS, and counts the reply.
class Poller final : public ScenarioModel {
 public:
  explicit Poller(ModelContext& ctx) : sim_(ctx.sim), end_(*ctx.serial) {
    end_.configure(settings_param(ctx));
    end_.on_receive([this](const serial::Received& r) {
      reply_ += static_cast<char>(r.byte);
      if (r.byte == '\r') replied_at_ = sim_.now();
    });
    for (char c : std::string("Q1\r")) end_.send(static_cast<std::uint8_t>(c));
  }
  void finish(sim::SimTime) override {}
  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"reply", reply_.substr(0, reply_.size() - (reply_.empty() ? 0 : 1))},
            {"replied_at_ps", std::to_string(replied_at_)}};
  }

 private:
  sim::Simulator& sim_;
  serial::SerialLine::End& end_;
  std::string reply_;
  sim::SimTime replied_at_ = 0;
};

// Answers each command line with "(OK" as soon as its '\r' arrives.
class Responder final : public ScenarioModel {
 public:
  explicit Responder(ModelContext& ctx) : end_(*ctx.serial) {
    end_.configure(settings_param(ctx));
    end_.on_receive([this](const serial::Received& r) {
      if (r.framing_error || r.byte != '\r') return;  // a garbled character is no command
      for (char c : std::string("(OK\r")) end_.send(static_cast<std::uint8_t>(c));
    });
  }
  void finish(sim::SimTime) override {}
  std::vector<std::pair<std::string, std::string>> stats() const override {
    return {{"framing_errors", std::to_string(end_.framing_errors())}};
  }

 private:
  serial::SerialLine::End& end_;
};

template <class Model>
ModelType serial_type(const char* name) {
  ModelType t;
  scenario::ParamValue uart;
  uart.kind = scenario::ParamKind::kString;
  uart.string = "2400 8N1";
  t.info = {name, "a UART talker (test only)", {{"uart", scenario::ParamKind::kString, "its UART's settings", uart}},
            {{scenario::PortKind::kSerialLine, true}}, {}};
  t.create = [](ModelContext& ctx) { return std::make_unique<Model>(ctx); };
  return t;
}

const ModelCatalog& catalog() {
  static const ModelCatalog c = [] {
    ModelCatalog c = models::builtin_catalog();
    c.add(serial_type<Poller>("test_poller"));
    c.add(serial_type<Responder>("test_responder"));
    return c;
  }();
  return c;
}

std::optional<scenario::Scenario> parse(const std::string& text, std::string* error) {
  return scenario::ScenarioLoader(catalog().infos(), catalog().sections())
      .load_text(text, "harness/runner/tests/serial.toml", error);
}

std::string scenario_text(const char* responder_uart, const std::string& expectations) {
  return std::string(R"([scenario]
name = "serial"
duration = "100ms"
[[model]]
name = "host"
type = "test_poller"
serial_line = "com1"
[[model]]
name = "ups"
type = "test_responder"
serial_line = "com1"
[model.params]
uart = ")") + responder_uart + "\"\n" + expectations;
}

TEST(SerialPort, TwoModelsOnALineTalkInSerialTime) {
  std::string error;
  auto s = parse(scenario_text("2400 8N1", "[[expect]]\nstat = \"host.reply\"\nequals = \"(OK\"\n"), &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run_scenario(*s, catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  // Three characters out and four back, back to back: 70 bits at 2400 baud.
  ASSERT_EQ(r.models[0].values[1].first, "replied_at_ps");
  EXPECT_EQ(r.models[0].values[1].second, "29166666667");
}

TEST(SerialPort, AUartSetUpDifferentlyIsAFindingAndNoReplyComes) {
  std::string error;
  auto s = parse(scenario_text("9600 8N1",
                               "[[expect]]\nfinding = \"serial.framing-error\"\nendpoint = \"com1\"\ncount = 1\n"
                               "[[expect]]\nstat = \"host.reply\"\nequals = \"\"\n"),
                 &error);
  ASSERT_TRUE(s) << error;
  const ScenarioResult r = run_scenario(*s, catalog(), {});
  EXPECT_EQ(r.outcome, Outcome::kPass);
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].finding.what,
            "characters host sends on com1 at 2400 8N1 reach ups, whose UART is set to 9600 8N1: it reads framing "
            "errors, not the characters");
}

TEST(SerialPort, TheLoaderAllowsOnlyWhatTheTypesPortsAllow) {
  std::string error;
  EXPECT_FALSE(parse(scenario_text("2400 8N1", "[[model]]\nname = \"third\"\ntype = \"test_poller\"\nserial_line = \"com1\"\n"),
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/serial.toml:14:1: error: model[2].serial_line: serial line \"com1\" already joins "
                   "host and ups; a line has two ends");
  EXPECT_FALSE(parse("[scenario]\nname = \"x\"\nduration = \"1ms\"\n[[model]]\nname = \"d\"\ntype = \"dma_exerciser\"\n"
                     "serial_line = \"com1\"\n",
                     &error));
  EXPECT_EQ(error, "harness/runner/tests/serial.toml:7:15: error: model[0].serial_line: model type dma_exerciser has no "
                   "serial port, so it cannot be wired to a serial line (its ports: PCIe function, host-memory DMA, clock)");
  EXPECT_FALSE(parse("[scenario]\nname = \"x\"\nduration = \"1ms\"\n[[model]]\nname = \"p\"\ntype = \"test_poller\"\n", &error));
  EXPECT_EQ(error, "harness/runner/tests/serial.toml:4:1: error: model[0].serial_line: model type test_poller has a serial "
                   "port: give it the line it is wired to (serial_line = \"com1\")");
}

}  // namespace
}  // namespace dexthil::runner
