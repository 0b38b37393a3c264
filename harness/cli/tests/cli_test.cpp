#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/cli/cli.hpp"

namespace dexthil::cli {
namespace {

struct Result {
  int code;
  std::string out, err;
};

Result run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = main(args, out, err, false);
  return {code, out.str(), err.str()};
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const std::string command : {"run", "list", "topo", "lint-plist", "xcode-target", "version"}) {
    Result r = run({command, "--help"});
    EXPECT_EQ(r.code, kExitPass) << command;
    EXPECT_EQ(r.out.rfind("usage: dexthil " + command, 0), 0u) << r.out;
    EXPECT_EQ(run({"help", command}).out, r.out);
  }
  Result top = run({"--help"});
  EXPECT_EQ(top.code, kExitPass);
  EXPECT_NE(top.out.find("run <file|dir>..."), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}).code, kExitUsage);
  Result unknown = run({"frobnicate"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_EQ(unknown.err.rfind("dexthil: unknown command \"frobnicate\"", 0), 0u);
  EXPECT_EQ(run({"run"}).code, kExitUsage);
  Result bad_option = run({"run", "--sed", "3", "fixtures/scenarios"});
  EXPECT_EQ(bad_option.code, kExitUsage);
  EXPECT_EQ(bad_option.err, "dexthil: unknown option \"--sed\" for 'run' (see 'dexthil run --help')\n");
  Result bad_seed = run({"run", "--seed", "-4", "fixtures/scenarios"});
  EXPECT_EQ(bad_seed.code, kExitUsage);
  EXPECT_NE(bad_seed.err.find("--seed takes a whole number"), std::string::npos);
  EXPECT_EQ(run({"run", "--out"}).code, kExitUsage);
}

TEST(Cli, VersionPrintsTheVersion) {
  Result r = run({"version"});
  EXPECT_EQ(r.code, kExitPass);
  EXPECT_EQ(r.out.rfind("dexthil ", 0), 0u);
}

TEST(Cli, RunPassesTheShippedScenariosAndWritesReports) {
  const auto dir = std::filesystem::temp_directory_path() / "dexthil-cli-test";
  std::filesystem::remove_all(dir);
  Result r = run({"run", "--dexts", DEXTHIL_DEXT_DIR, "--out", dir.string(), "fixtures/scenarios"});
  EXPECT_EQ(r.code, kExitPass) << r.out << r.err;
  EXPECT_NE(r.out.find("[1/"), std::string::npos);  // a progress line per scenario
  EXPECT_NE(r.out.find(" pass, 0 fail, 0 error"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "junit.xml"));
  EXPECT_TRUE(std::filesystem::exists(dir / "summary.json"));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A report with its wall-clock figures taken out: the only part allowed to differ between runs.
std::string without_wall_time(const std::string& report) {
  std::string out;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("wall_seconds") != std::string::npos) continue;
    for (auto at = line.find(" time=\""); at != std::string::npos; at = line.find(" time=\"", at + 1)) {
      line.erase(at, line.find('"', at + 7) + 1 - at);
    }
    out += line + "\n";
  }
  return out;
}

TEST(Cli, TwoJobsGiveExactlyTheReportsOfOne) {
  const auto dir = std::filesystem::temp_directory_path() / "dexthil-cli-jobs";
  std::filesystem::remove_all(dir);
  Result one = run({"run", "-j", "1", "--quiet", "--dexts", DEXTHIL_DEXT_DIR, "--out", (dir / "j1").string(), "fixtures/scenarios"});
  Result two = run({"run", "--jobs", "2", "--quiet", "--dexts", DEXTHIL_DEXT_DIR, "--out", (dir / "j2").string(), "fixtures/scenarios"});
  EXPECT_EQ(one.code, kExitPass) << one.out << one.err;
  EXPECT_EQ(two.code, kExitPass) << two.out << two.err;
  // Every shipped scenario writes to its trace: the FNV offset basis is the hash of nothing.
  const std::string summary = read_file(dir / "j1" / "summary.json");
  EXPECT_EQ(summary.find("\"trace_hash\": \"cbf29ce484222325\""), std::string::npos) << summary;
  EXPECT_EQ(summary.find("\"trace_records\": 0,"), std::string::npos);
  for (const char* report : {"summary.json", "junit.xml"}) {
    const std::string a = without_wall_time(read_file(dir / "j1" / report));
    EXPECT_GT(a.size(), 1000u) << report;
    EXPECT_EQ(a, without_wall_time(read_file(dir / "j2" / report))) << report;
  }
  EXPECT_EQ(run({"run", "-j", "0", "fixtures/scenarios"}).err, "dexthil: -j takes a whole number from 1 to 256, got \"0\"\n");
  EXPECT_EQ(run({"run", "-jx", "fixtures/scenarios"}).err, "dexthil: -jx takes a whole number from 1 to 256, got \"x\"\n");
  EXPECT_EQ(run({"run", "-j2", "--quiet", "--dexts", DEXTHIL_DEXT_DIR, "fixtures/scenarios"}).code, kExitPass);
  EXPECT_EQ(run({"run", "--callback-limit", "soon", "fixtures/scenarios"}).err,
            "dexthil: --callback-limit takes seconds from 0 to 86400, got \"soon\"\n");
}

TEST(Cli, ACrashingDextIsAFindingAndTheScenariosAfterItStillRun) {
  const auto dir = std::filesystem::temp_directory_path() / "dexthil-cli-crash";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string topology = std::filesystem::absolute("fixtures/topologies/direct.toml").string();
  auto scenario = [&](const std::string& name, const std::string& dext) {
    std::ofstream(dir / (name + ".toml")) << "[scenario]\nname = \"" << name << "\"\nduration = \"5ms\"\ntopology = \""
                                          << topology << "\"\n[[model]]\nname = \"testdev\"\ntype = \"dma_testdev\"\n"
                                          << "endpoint = \"dev\"\n[[dext]]\nname = \"" << dext << "\"\n"
                                          << "[[expect]]\nstat = \"TestdevDriver@dev.TransfersOK\"\nequals = 2\n";
  };
  scenario("a-crashes", "TestdevDriver-null-store");
  scenario("b-runs-after-it", "TestdevDriver");
  Result r = run({"run", "--dexts", DEXTHIL_DEXT_DIR, dir.string()});
  EXPECT_EQ(r.code, kExitFail) << r.out << r.err;
  EXPECT_NE(r.out.find("2 scenarios: 1 pass, 1 fail, 0 error\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[dext.signal] TestdevDriver@dev at 1.003 ms: EXC_BAD_ACCESS (SIGSEGV): SIGSEGV (address not mapped) at "
                       "address 0x4 on queue \"Default\" in TestdevDriver::TimerOccurred"),
            std::string::npos)
      << r.out;
}

TEST(Cli, AFailingScenarioExitsOneAndSaysHowToRerunIt) {
  const auto path = std::filesystem::temp_directory_path() / "dexthil-failing.toml";
  std::ofstream(path) << "[scenario]\nname = \"failing\"\nduration = \"1ms\"\n"
                         "[[model]]\nname = \"dma0\"\ntype = \"dma_exerciser\"\n"
                         "[[fault]]\nkind = \"dma-corrupt-read\"\nmodel = \"dma0\"\nrequest = 1\n"
                         "[[expect]]\nstat = \"dma0.requests_completed\"\nat_least = 1\n";
  Result r = run({"run", "--seed", "12", path.string()});
  EXPECT_EQ(r.code, kExitFail) << r.out;
  EXPECT_NE(r.out.find("FAIL failing (" + path.string() + ", seed 12; rerun with: dexthil run --seed 12 " + path.string()),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("[dma.data-mismatch] dma0 at "), std::string::npos);

  // With reports written, a failing scenario is run again to write waveforms around its first finding.
  const auto out = std::filesystem::temp_directory_path() / "dexthil-failing-out";
  std::filesystem::remove_all(out);
  Result with_out = run({"run", "--seed", "12", "--out", out.string(), path.string()});
  EXPECT_EQ(with_out.code, kExitFail);
  EXPECT_TRUE(std::filesystem::exists(out / "waves" / "failing" / "dma0.fst"));
  EXPECT_NE(with_out.out.find("  note: waveforms: " + (out / "waves").string() + "/failing/ ("), std::string::npos)
      << with_out.out;
}

TEST(Cli, EachMalformedScenarioExitsTwoWithOneMessageAndRunsNothing) {
  for (const auto& entry : std::filesystem::directory_iterator("fixtures/invalid/scenarios")) {
    const std::string path = entry.path().string();
    Result r = run({"run", path});
    EXPECT_EQ(r.code, kExitUsage) << path;
    EXPECT_EQ(r.out, "") << path;
    EXPECT_EQ(r.err.rfind(path + ":", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("\ndexthil: 1 problem in the scenario files; nothing was run\n"), std::string::npos) << r.err;
  }
  Result dup = run({"run", "fixtures/invalid/duplicate-names"});
  EXPECT_EQ(dup.code, kExitUsage);
  EXPECT_NE(dup.err.find("is already the name of the scenario in"), std::string::npos);
  Result missing = run({"run", "no-such-dir"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_EQ(missing.err.rfind("no-such-dir: error: no such scenario file or folder\n", 0), 0u);
}

TEST(Cli, TopoPrintsTheEnumeratedTreeOrOnePreciseError) {
  Result r = run({"topo", "fixtures/topologies/field-chain.toml"});
  EXPECT_EQ(r.code, kExitPass) << r.err;
  EXPECT_NE(r.out.find("04:08.0  lsi  1000:0030  endpoint"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DMA arrives as 04:00.0 (pex8114 takes ownership) -> SID 0"), std::string::npos) << r.out;
  Result bad = run({"topo", "fixtures/invalid/topologies/bad-ids.toml"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_EQ(bad.err.rfind("fixtures/invalid/topologies/bad-ids.toml:14:7: error: node[1].ids:", 0), 0u) << bad.err;
  EXPECT_EQ(run({"topo"}).code, kExitUsage);
  EXPECT_EQ(run({"topo", "no/such.toml"}).code, kExitUsage);
  EXPECT_EQ(run({"topo", "--help"}).out.rfind("usage: dexthil topo", 0), 0u);
}

TEST(Cli, LintPlistExitsByFindings) {
  EXPECT_EQ(run({"lint-plist", "--entitlements", "fixtures/plists/lsi-mpt.entitlements", "fixtures/plists/lsi-mpt.plist"}).code,
            kExitPass);
  Result r = run({"lint-plist", "--entitlements", "fixtures/plists/lsi-mpt.entitlements", "fixtures/plists/lsi-mpt-mistakes.plist"});
  EXPECT_EQ(r.code, kExitFail);
  EXPECT_NE(r.out.find("[plist.match-category] IOMatchCategory \"LSIMPT\" on a personality matching IOPCIDevice"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4 findings in 1 personality"), std::string::npos);
  EXPECT_EQ(run({"lint-plist", "fixtures/plists/not-a-plist.plist"}).code, kExitUsage);
  EXPECT_EQ(run({"lint-plist"}).code, kExitUsage);
  EXPECT_EQ(run({"lint-plist", "--entitlements"}).code, kExitUsage);
}

TEST(Cli, ListShowsScenariosModelsAndChecks) {
  Result scenarios = run({"list", "fixtures/scenarios"});
  EXPECT_EQ(scenarios.code, kExitPass);
  EXPECT_NE(scenarios.out.find("dma-port-smoke  duration 2 ms  seed 7  models dma0:dma_exerciser"), std::string::npos)
      << scenarios.out;
  Result models = run({"list", "--models"});
  EXPECT_NE(models.out.find("dma_exerciser: "), std::string::npos);
  EXPECT_NE(models.out.find("transactions"), std::string::npos);
  Result checks = run({"list", "--checks"});
  EXPECT_NE(checks.out.find("budget.dma-latency"), std::string::npos);
  Result sections = run({"list", "--sections"});
  EXPECT_EQ(sections.code, kExitPass);
  // One column for the summaries, two spaces past the longest name.
  EXPECT_NE(sections.out.find("[[hotplug]]               surprise removal"), std::string::npos) << sections.out;
  EXPECT_NE(sections.out.find("[[usb_device]]            a USB device"), std::string::npos) << sections.out;
  EXPECT_NE(sections.out.find("[[scsi_task_management]]  stimulus"), std::string::npos) << sections.out;
}

// A one-target Xcode project in the style Xcode writes, made for these tests.
const char* const kTinyProject = R"pbx(// !$*UTF8*$!
{
	archiveVersion = 1;
	classes = {
	};
	objectVersion = 56;
	objects = {
		0B0000000000000000000040 /* Tiny.iig in Sources */ = {isa = PBXBuildFile; fileRef = 0B0000000000000000000020 /* Tiny.iig */; };
		0B0000000000000000000041 /* Tiny.cpp in Sources */ = {isa = PBXBuildFile; fileRef = 0B0000000000000000000021 /* Tiny.cpp */; };
		0B0000000000000000000042 /* Status.swift in Sources */ = {isa = PBXBuildFile; fileRef = 0B0000000000000000000022 /* Status.swift */; };
		0B0000000000000000000020 /* Tiny.iig */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.iig; path = Tiny.iig; sourceTree = "<group>"; };
		0B0000000000000000000021 /* Tiny.cpp */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.cpp.cpp; path = Tiny.cpp; sourceTree = "<group>"; };
		0B0000000000000000000022 /* Status.swift */ = {isa = PBXFileReference; lastKnownFileType = sourcecode.swift; path = Status.swift; sourceTree = "<group>"; };
		0B0000000000000000000010 = {
			isa = PBXGroup;
			children = (
				0B0000000000000000000011 /* Tiny */,
			);
			sourceTree = "<group>";
		};
		0B0000000000000000000011 /* Tiny */ = {
			isa = PBXGroup;
			children = (
				0B0000000000000000000020 /* Tiny.iig */,
				0B0000000000000000000021 /* Tiny.cpp */,
				0B0000000000000000000022 /* Status.swift */,
			);
			path = Tiny;
			sourceTree = "<group>";
		};
		0B0000000000000000000060 /* Tiny */ = {
			isa = PBXNativeTarget;
			buildConfigurationList = 0B0000000000000000000071 /* Build configuration list for PBXNativeTarget "Tiny" */;
			buildPhases = (
				0B0000000000000000000051 /* Sources */,
			);
			name = Tiny;
			productType = "com.apple.product-type.driver-extension";
		};
		0B0000000000000000000001 /* Project object */ = {
			isa = PBXProject;
			buildConfigurationList = 0B0000000000000000000070 /* Build configuration list for PBXProject "Tiny" */;
			developmentRegion = en;
			mainGroup = 0B0000000000000000000010;
			projectDirPath = "";
			targets = (
				0B0000000000000000000060 /* Tiny */,
			);
		};
		0B0000000000000000000051 /* Sources */ = {
			isa = PBXSourcesBuildPhase;
			files = (
				0B0000000000000000000040 /* Tiny.iig in Sources */,
				0B0000000000000000000041 /* Tiny.cpp in Sources */,
				0B0000000000000000000042 /* Status.swift in Sources */,
			);
		};
		0B0000000000000000000080 /* Debug */ = {isa = XCBuildConfiguration; buildSettings = {SDKROOT = driverkit; }; name = Debug; };
		0B0000000000000000000081 /* Release */ = {isa = XCBuildConfiguration; buildSettings = {SDKROOT = driverkit; }; name = Release; };
		0B0000000000000000000082 /* Debug */ = {
			isa = XCBuildConfiguration;
			buildSettings = {
				GCC_PREPROCESSOR_DEFINITIONS = (
					"TINY=1",
					"'NAME=\"$(TARGET_NAME); v1\"'",
				);
				INFOPLIST_FILE = Tiny/Info.plist;
				PRODUCT_BUNDLE_IDENTIFIER = org.example.tiny;
			};
			name = Debug;
		};
		0B0000000000000000000083 /* Release */ = {
			isa = XCBuildConfiguration;
			buildSettings = {
				GCC_PREPROCESSOR_DEFINITIONS = "TINY=1";
				INFOPLIST_FILE = Tiny/Info.plist;
				PRODUCT_BUNDLE_IDENTIFIER = org.example.tiny;
			};
			name = Release;
		};
		0B0000000000000000000070 /* Build configuration list for PBXProject "Tiny" */ = {
			isa = XCConfigurationList;
			buildConfigurations = (
				0B0000000000000000000080 /* Debug */,
				0B0000000000000000000081 /* Release */,
			);
		};
		0B0000000000000000000071 /* Build configuration list for PBXNativeTarget "Tiny" */ = {
			isa = XCConfigurationList;
			buildConfigurations = (
				0B0000000000000000000082 /* Debug */,
				0B0000000000000000000083 /* Release */,
			);
		};
	};
	rootObject = 0B0000000000000000000001 /* Project object */;
}
)pbx";

std::filesystem::path write_tiny_project(const std::string& name, const std::string& pbxproj) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "Tiny.xcodeproj");
  std::filesystem::create_directories(dir / "Tiny");
  for (const char* file : {"Tiny/Tiny.iig", "Tiny/Tiny.cpp", "Tiny/Status.swift", "Tiny/Info.plist"}) {
    std::ofstream(dir / file) << "\n";
  }
  std::ofstream(dir / "Tiny.xcodeproj" / "project.pbxproj") << pbxproj;
  return dir;
}

TEST(Cli, XcodeTargetDescribesADextTarget) {
  const auto dir = write_tiny_project("dexthil-cli-xcode", kTinyProject);
  const std::string project = (dir / "Tiny.xcodeproj").string();
  Result r = run({"xcode-target", project, "Tiny"});
  EXPECT_EQ(r.code, kExitPass) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "target:            Tiny\n"
                   "product type:      com.apple.product-type.driver-extension\n"
                   "configuration:     Release\n"
                   "project:           " + project + "\n"
                   "source root:       " + dir.string() + " (the paths below are relative to it)\n"
                   "product name:      org.example.tiny\n"
                   "bundle identifier: org.example.tiny\n"
                   "deployment target: (not set)\n"
                   "Info.plist:        Tiny/Info.plist\n"
                   "entitlements:      (not set)\n"
                   "xcconfig files: none\n"
                   "iig files (1):\n  Tiny/Tiny.iig\n"
                   "C++ sources (1):\n  Tiny/Tiny.cpp\n"
                   "C sources: none\n"
                   "headers: none\n"
                   "header search paths: none\n"
                   "definitions (1):\n  TINY=1\n"
                   "not built (1):\n  Tiny/Status.swift: Swift: dexthil builds C, C++ and .iig\n");
  Result unknown = run({"xcode-target", project, "Tinny"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_EQ(unknown.err, project + "/project.pbxproj: error: no target named 'Tinny' in the project (its targets: Tiny)\n");
  EXPECT_EQ(run({"xcode-target", project}).code, kExitUsage);
  EXPECT_EQ(run({"xcode-target", "--cmake"}).err, "dexthil: --cmake needs a file\n");
  EXPECT_EQ(run({"xcode-target", "--configuration", "Profile", project, "Tiny"}).code, kExitUsage);
}

TEST(Cli, XcodeTargetWritesACMakeScript) {
  const auto dir = write_tiny_project("dexthil-cli-xcode-cmake", kTinyProject);
  const std::string project = (dir / "Tiny.xcodeproj").string();
  const std::string script = (dir / "tiny.cmake").string();
  Result r = run({"xcode-target", "--configuration", "Debug", "--cmake", script, project, "Tiny"});
  EXPECT_EQ(r.code, kExitPass) << r.err;
  EXPECT_EQ(r.out, "wrote " + script + " (target Tiny, configuration Debug)\n");
  EXPECT_FALSE(std::filesystem::exists(script + ".tmp"));
  const std::string text = read_file(script);
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_IIG \"" + (dir / "Tiny" / "Tiny.iig").string() + "\")\n"), std::string::npos) << text;
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_SOURCES \"" + (dir / "Tiny" / "Tiny.cpp").string() + "\")\n"), std::string::npos);
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_DEFINITIONS\n    \"TINY=1\"\n    \"NAME=\\\"Tiny\\; v1\\\"\")\n"), std::string::npos) << text;
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_PLIST \"" + (dir / "Tiny" / "Info.plist").string() + "\")\n"), std::string::npos);
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_BUNDLE_IDENTIFIER \"org.example.tiny\")\n"), std::string::npos);
  EXPECT_NE(text.find("set(DEXTHIL_XCODE_C_SOURCES \"\")\n"), std::string::npos);
  EXPECT_NE(text.find("    \"TARGET_NAME=Tiny\"\n"), std::string::npos);

  // A malformed project: one message naming the file, line and column; nothing written.
  std::string broken = kTinyProject;
  broken.replace(broken.find("name = Tiny;"), 12, "name = Tiny");
  const auto bad_dir = write_tiny_project("dexthil-cli-xcode-bad", broken);
  const std::string bad_script = (bad_dir / "tiny.cmake").string();
  Result bad = run({"xcode-target", "--cmake", bad_script, (bad_dir / "Tiny.xcodeproj").string(), "Tiny"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, (bad_dir / "Tiny.xcodeproj" / "project.pbxproj").string() +
                         ":38:4: error: expected ';' after the value of 'name', found 'productType'\n");
  EXPECT_FALSE(std::filesystem::exists(bad_script));
}

}  // namespace
}  // namespace dexthil::cli
