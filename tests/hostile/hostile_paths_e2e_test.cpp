// The hostile-client suite, continued: a CLI that trusts no impostor server, wrong argument
// types, secrets kept out of the log, overlong fields, and links planted in an output folder
// (the fixture and the rules: hostile_e2e_fixture.h, hostile_e2e_test.cpp).
#include "hostile_e2e_fixture.h"

namespace hangar::test {
namespace {

// Item 8: the CLI checks who listens before it sends anything: root's set-credentials pointed at
// mallory's socket sends nothing.
TEST_F(HostileE2E, TheCliSendsNothingToAServerItDoesNotTrust) {
  const auto run_dir = dir_.path() / "trap";
  std::filesystem::create_directories(run_dir);
  ASSERT_EQ(::chown(run_dir.c_str(), mallory_.uid, mallory_.gid), 0);
  endpoint_ = (run_dir / "hangar.sock").string();
  const auto record = run_dir / "received.json";
  auto impostor =
      std::make_unique<Process>(as(mallory_, {kHostile, "listen", endpoint_, "8", record.string()}),
                                dir_.path() / "impostor.out");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!std::filesystem::exists(endpoint_) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(std::filesystem::exists(endpoint_)) << read_file(dir_.path() / "impostor.out");
  auto set =
      hangar({"config", "set-credentials", "--tenant", "72f988bf-86f1-41af-91ab-2d7cd011db47",
              "--client-id", "0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a", "--secret-stdin"},
             std::nullopt, std::string("s3cr3t-value-that-must-stay-home\n"));
  EXPECT_EQ(set.code, 1) << set.output;
  EXPECT_NE(set.output.find("refusing to talk to " + endpoint_), std::string::npos) << set.output;
  EXPECT_NE(set.output.find(mallory_.name), std::string::npos) << set.output;
  EXPECT_NE(set.output.find("nothing was sent"), std::string::npos) << set.output;
  // The advice warns of an impostor; trusting the account is only for hangard's own (finding 07).
  EXPECT_NE(set.output.find("it may be an impostor"), std::string::npos) << set.output;
  EXPECT_NE(set.output.find("only if uid " + std::to_string(mallory_.uid) + " (" + mallory_.name +
                            ") really is the dedicated account"),
            std::string::npos)
      << set.output;
  auto status = hangar({"status"});
  EXPECT_EQ(status.code, 1) << status.output;
  ASSERT_TRUE(impostor->wait(15s).has_value());
  const Json received = Json::parse(read_file(record));
  EXPECT_EQ(received.value("bytes", -1), 0) << received.dump();
  EXPECT_GE(received.value("connections", 0), 1) << "the CLI did connect, and then said nothing";
}

// Item 4, over the wire: every argument of every command with every wrong type is refused
// invalid_argument naming it (an administrator's calls, so no permission check stops them first).
TEST_F(HostileE2E, EveryWrongArgumentTypeIsInvalidArgument) {
  auto service = start();
  ASSERT_TRUE(wait_ready(*service)) << read_file(dir_.path() / "hangard.out");
  const std::vector<Json> values{Json("text"),
                                 Json(12),
                                 Json(-1),
                                 Json(1.5),
                                 Json(true),
                                 Json::array({1}),
                                 Json::object({{"a", 1}})};
  auto client = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(client.ok());
  int checked = 0;
  for (const auto& info : ipc::kCommands) {
    for (const auto& spec : info.args) {
      for (const Json& value : values) {
        const bool fits = spec.type == ipc::ArgType::kString    ? value.is_string()
                          : spec.type == ipc::ArgType::kBoolean ? value.is_boolean()
                          : spec.type == ipc::ArgType::kDevices
                              ? value.is_array()
                              : value.is_number_integer() && value.get<long long>() >= 0;
        if (fits) continue;
        Json args{{std::string(spec.name), value}};
        auto reply = client->call(std::string(info.name), args, 10s);
        if (!reply.ok() && reply.error().code == ipc::errc::kUnavailable) {
          client = ipc::Client::connect(endpoint_);  // a refused subscribe closes; come back
          ASSERT_TRUE(client.ok());
          reply = client->call(std::string(info.name), args, 10s);
        }
        ++checked;
        ASSERT_FALSE(reply.ok()) << info.name << " " << spec.name << "=" << value.dump();
        EXPECT_EQ(reply.error().code, ipc::errc::kInvalidArgument)
            << info.name << " " << spec.name << "=" << value.dump() << ": "
            << reply.error().message;
        EXPECT_NE(reply.error().message.find("\"" + std::string(spec.name) + "\""),
                  std::string::npos)
            << info.name << ": " << reply.error().message;
      }
    }
  }
  EXPECT_GT(checked, 100);
  expect_healthy(*service, "the wrong-type walk");
}

// Item 9: set-credentials validates before it logs, and logs only the canonical GUIDs.
TEST_F(HostileE2E, SetCredentialsLogsNoRawId) {
  auto service = start({"--log-level", "debug"});
  ASSERT_TRUE(wait_ready(*service)) << read_file(dir_.path() / "hangard.out");
  auto client = ipc::Client::connect(endpoint_);
  ASSERT_TRUE(client.ok());
  const std::string pasted = "Xy7~pasted-secret-in-the-tenant-field.Qz";
  auto refused =
      client->call("set-credentials", Json{{"tenant_id", pasted},
                                           {"client_id", "0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a"},
                                           {"client_secret", "another-secret-value-1234"},
                                           {"verify", false}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ipc::errc::kInvalidArgument);
  EXPECT_EQ(refused.error().message.find(pasted), std::string::npos);
  auto accepted =
      client->call("set-credentials", Json{{"tenant_id", "{72F988BF-86F1-41AF-91AB-2D7CD011DB47}"},
                                           {"client_id", "0B6F3B8A-3F5D-4C1E-9A57-6F0D2C4E8B1A"},
                                           {"client_secret", "another-secret-value-1234"},
                                           {"verify", false}});
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  service->signal(SIGTERM);
  ASSERT_TRUE(service->wait(10s).has_value());
  const std::string log = read_file(data_dir_ / "logs" / "hangard.log");
  EXPECT_EQ(log.find(pasted), std::string::npos) << "a raw id reached the log";
  EXPECT_EQ(log.find("72F988BF"), std::string::npos) << "only the canonical form is logged";
  EXPECT_NE(log.find("tenant 72f988bf-86f1-41af-91ab-2d7cd011db47"), std::string::npos) << log;
}

// Item 3: fields longer than the cloud takes are refused row by row; list and export keep working.
TEST_F(HostileE2E, OverlongFieldsAreRefusedAndListingKeepsWorking) {
  auto service = start();
  ASSERT_TRUE(wait_ready(*service)) << read_file(dir_.path() / "hangard.out");
  const auto csv = dir_.path() / "partner.csv";
  {
    std::ofstream out(csv, std::ios::binary);
    out << "Device Serial Number,Manufacturer,Model\r\n";
    for (int i = 0; i < 600; ++i) {
      out << "LONG" << i << ",Contoso " << std::string(240, 'm') << ",Laptop "
          << std::string(240, 'x') << "\r\n";
    }
    out << "TOOLONG1,Contoso " << std::string(300, 'm') << ",Laptop 7\r\n";
  }
  auto import = hangar({"import", csv.string(), "--profile", "standard"});
  EXPECT_EQ(import.code, 1) << import.output;
  EXPECT_NE(
      import.output.find("Manufacturer is 308 characters long; the most the cloud takes is 255"),
      std::string::npos)
      << import.output;
  EXPECT_NE(import.output.find("600 accepted"), std::string::npos) << import.output;
  auto list = hangar({"--json", "list"});
  ASSERT_EQ(list.code, 0) << list.output.substr(0, 2000);
  EXPECT_EQ(Json::parse(list.output)["devices"].size(), 600u);
  auto exported = hangar({"export", "--format", "json", "-o", (dir_.path() / "out.json").string()});
  EXPECT_EQ(exported.code, 0) << exported.output;
  expect_healthy(*service, "the import of long fields");
}

// Finding 06: another user who may write the output folder (a shared staging folder, sticky and
// writable by all) plants links under the names root's export and merge write, the final ones and
// the temporary ones of old ("FILE.partial"), all pointing at a root-only file outside. The CLI
// replaces the links at the final names and never writes through any of them.
TEST_F(HostileE2E, ExportAndMergeNeverWriteThroughLinksPlantedInTheOutputFolder) {
  auto service = start();
  ASSERT_TRUE(wait_ready(*service)) << read_file(dir_.path() / "hangard.out");
  const auto devices = dir_.path() / "devices.csv";
  auto made =
      run_command({kDevicegen, "-o", devices.string(), "--devices", "F06-:20"}, dir_.path());
  ASSERT_EQ(made.code, 0) << made.output;
  auto import = hangar({"import", devices.string(), "--profile", "standard"});
  ASSERT_EQ(import.code, 0) << import.output;

  const auto share = dir_.path() / "share";
  std::filesystem::create_directories(share);
  ::chmod(share.c_str(), 01777);
  const auto victim = dir_.path() / "victim";
  std::ofstream(victim) << "precious\n";
  ::chmod(victim.c_str(), 0600);
  const std::vector<std::string> planted{"q.json", "up.csv.partial", "up-001.csv.partial",
                                         "up.csv", "m.csv",          "m.csv.partial"};
  for (const auto& name : planted) {
    auto r = run_command(as(mallory_, {"/bin/ln", "-s", victim.string(), (share / name).string()}),
                         dir_.path());
    ASSERT_EQ(r.code, 0) << name << ": " << r.output;
  }

  // What the victim holds now, short (a failure must not print a whole export).
  const auto victim_text = [&] { return read_file(victim).substr(0, 60); };
  auto json = hangar({"export", "--format", "json", "-o", (share / "q.json").string()});
  EXPECT_EQ(json.code, 0) << json.output;
  EXPECT_EQ(victim_text(), "precious\n") << "export --format json wrote through the link";
  EXPECT_FALSE(std::filesystem::is_symlink(share / "q.json"));
  EXPECT_EQ(Json::parse(read_file(share / "q.json"), nullptr, false).size(), 20u);

  auto csv = hangar({"export", "--format", "csv", "-o", (share / "up.csv").string()});
  EXPECT_EQ(csv.code, 0) << csv.output;
  EXPECT_EQ(victim_text(), "precious\n") << "export --format csv wrote through a link";
  EXPECT_FALSE(std::filesystem::is_symlink(share / "up.csv"));
  EXPECT_EQ(read_file(share / "up.csv").rfind("Device Serial Number,", 0), 0u);

  auto merge = hangar({"merge", devices.string(), "-o", (share / "m.csv").string()});
  EXPECT_EQ(merge.code, 0) << merge.output;
  EXPECT_EQ(victim_text(), "precious\n") << "merge wrote through a link";
  EXPECT_FALSE(std::filesystem::is_symlink(share / "m.csv"));
  EXPECT_NE(read_file(share / "m.csv").find("F06-"), std::string::npos);

  // The links at the old temporary names are still mallory's links, untouched; nothing else of
  // the CLI's (no temporary file) is left in the folder.
  std::set<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(share)) {
    left.insert(entry.path().filename().string());
  }
  EXPECT_EQ(left, (std::set<std::string>{"q.json", "up.csv.partial", "up-001.csv.partial", "up.csv",
                                         "m.csv", "m.csv.partial"}));
  for (const auto& name : {"up.csv.partial", "up-001.csv.partial", "m.csv.partial"}) {
    EXPECT_TRUE(std::filesystem::is_symlink(share / name)) << name;
  }
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  expect_healthy(*service, "the planted links");
}

}  // namespace
}  // namespace hangar::test
