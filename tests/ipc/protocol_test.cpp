// Protocol parsing and dispatch: malformed requests, versions, unknown commands, permissions.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>

#include "hangar/ipc/device_wire.h"
#include "hangar/ipc/dispatcher.h"
#include "test_support.h"

namespace hangar::ipc {
namespace {

TEST(Protocol, RequestRoundTrips) {
  Request r;
  r.id = 42;
  r.command = "status";
  r.args = {{"verbose", true}};
  auto parsed = parse_request(serialize(r));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->id, 42u);
  EXPECT_EQ(parsed->command, "status");
  EXPECT_EQ(parsed->args["verbose"], true);
}

TEST(Protocol, CborRequestsAndRepliesRoundTripAndAreDetected) {
  Request r;
  r.id = 43;
  r.command = "import";
  r.encoding = Encoding::kCbor;
  r.args = {{"devices",
             Json::array({{{"serial", "S1"}, {"hash", Json::binary({0x4F, 0x41, 0x00, 0xFF})}}})}};
  const std::string payload = serialize(r);
  EXPECT_EQ(payload_encoding(payload), Encoding::kCbor);
  auto parsed = parse_request(payload);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->encoding, Encoding::kCbor);
  EXPECT_EQ(parsed->id, 43u);
  const Json& hash = parsed->args["devices"][0]["hash"];
  ASSERT_TRUE(hash.is_binary());
  const std::vector<std::uint8_t>& bytes = hash.get_binary();
  EXPECT_EQ(bytes, std::vector<std::uint8_t>({0x4F, 0x41, 0x00, 0xFF}));

  Reply reply;
  reply.id = 43;
  reply.encoding = Encoding::kCbor;
  reply.result = {{"accepted", 1}};
  auto back = parse_reply(serialize(reply));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->encoding, Encoding::kCbor);
  EXPECT_EQ(back->result["accepted"], 1);

  EXPECT_EQ(payload_encoding(R"({"v":1})"), Encoding::kJson);
  EXPECT_EQ(payload_encoding(" {}"), Encoding::kJson);
  EXPECT_EQ(payload_encoding(""), Encoding::kJson);
}

TEST(Protocol, BrokenCborIsMalformedNotACrash) {
  Request r;
  r.id = 1;
  r.command = "ping";
  r.encoding = Encoding::kCbor;
  const std::string whole = serialize(r);
  for (std::size_t cut = 1; cut < whole.size(); ++cut) {
    auto parsed = parse_request(whole.substr(0, cut));
    ASSERT_FALSE(parsed.ok()) << "cut at " << cut;
    EXPECT_EQ(parsed.error().code, errc::kMalformedRequest);
    EXPECT_NE(parsed.error().message.find("CBOR"), std::string::npos);
  }
  EXPECT_FALSE(parse_request(whole + "x").ok()) << "trailing bytes after the map";
  // Found by fuzz_protocol: a map declaring 2^58 entries made nlohmann throw out_of_range (408)
  // despite allow_exceptions=false. It must be a malformed request like any other.
  const std::string huge("\xbb\x05\x1f\x00\x00\x00\x7b\x22\x76\x22", 10);
  std::optional<core::Result<Request>> parsed;
  EXPECT_NO_THROW(parsed = parse_request(huge));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->ok());
  EXPECT_NO_THROW((void)parse_reply(huge));
  EXPECT_FALSE(parse_reply(whole.substr(0, whole.size() - 1)).ok());
}

// The same key in two objects is two keys; in CBOR a key twice is refused as in JSON.
TEST(Protocol, AKeyTwiceIsRefusedOnlyWithinOneObject) {
  auto siblings = parse_request(R"({"v":1,"id":1,"cmd":"ping","args":{"a":{"k":1},"b":{"k":2}}})");
  ASSERT_TRUE(siblings.ok()) << siblings.error().message;
  EXPECT_EQ(siblings->args["b"]["k"], 2);
  std::string cbor(1, static_cast<char>(0xA5));  // a map of five pairs, "cmd" twice
  for (const auto& [key, value] : std::vector<std::pair<Json, Json>>{
           {"v", 1}, {"id", 1}, {"cmd", "status"}, {"cmd", "pause"}, {"args", Json::object()}}) {
    Json::to_cbor(key, nlohmann::detail::output_adapter<char>(cbor));
    Json::to_cbor(value, nlohmann::detail::output_adapter<char>(cbor));
  }
  auto twice = parse_request(cbor);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, errc::kMalformedRequest);
  EXPECT_NE(twice.error().message.find("\"cmd\" twice"), std::string::npos)
      << twice.error().message;
}

TEST(DeviceWire, HashTravelsAsBase64OrBytes) {
  core::DeviceRecord device;
  device.serial_number = "S1";
  device.hardware_hash = {0x4F, 0x41, 0x10, 0x00, 0x01};
  const Json text = device_to_wire(device);
  ASSERT_TRUE(text["hash"].is_string());
  EXPECT_EQ(text["hash"], "T0EQAAE=");
  const Json bytes = device_to_wire(device, HashForm::kBytes);
  ASSERT_TRUE(bytes["hash"].is_binary());
  for (const Json& wire : {text, bytes}) {
    auto back = device_from_wire(wire);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->device.hardware_hash, device.hardware_hash);
    EXPECT_TRUE(back->hash_error.empty());
  }
  auto bad = device_from_wire(Json{{"serial", "S1"}, {"hash", 12}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"hash\" must be a string (base64) or bytes"),
            std::string::npos)
      << bad.error().message;
}

TEST(Protocol, MalformedRequestsAreRejectedWithAReason) {
  struct Case {
    const char* payload;
    const char* code;
    const char* mentions;
  };
  const Case cases[] = {
      {"not json", errc::kMalformedRequest, "not valid JSON"},
      {"[1,2]", errc::kMalformedRequest, "JSON object"},
      {R"({"v":1,"cmd":"ping"})", errc::kMalformedRequest, "\"id\""},
      {R"({"v":1,"id":-3,"cmd":"ping"})", errc::kMalformedRequest, "\"id\""},
      {R"({"id":1,"cmd":"ping"})", errc::kMalformedRequest, "\"v\""},
      {R"({"v":"1","id":1,"cmd":"ping"})", errc::kMalformedRequest, "\"v\""},
      {R"({"v":1,"id":1})", errc::kMalformedRequest, "\"cmd\""},
      {R"({"v":1,"id":1,"cmd":""})", errc::kMalformedRequest, "\"cmd\""},
      {R"({"v":1,"id":1,"cmd":"ping","args":[1]})", errc::kMalformedRequest, "\"args\""},
      {R"({"v":99,"id":1,"cmd":"ping"})", errc::kUnsupportedVersion, "99"},
      {R"({"v":0,"id":1,"cmd":"ping"})", errc::kUnsupportedVersion, "0"},
      // A key twice is refused, never "the last one wins" (black-box round 5).
      {R"({"v":1,"id":1,"cmd":"status","cmd":"pause"})", errc::kMalformedRequest,
       "has the key \"cmd\" twice in one object"},
      {R"({"v":1,"id":1,"cmd":"ping","args":{"a":{"x":1,"x":2}}})", errc::kMalformedRequest,
       "has the key \"x\" twice in one object"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_request(c.payload);
    ASSERT_FALSE(parsed.ok()) << c.payload;
    EXPECT_EQ(parsed.error().code, c.code) << c.payload;
    EXPECT_NE(parsed.error().message.find(c.mentions), std::string::npos)
        << c.payload << " -> " << parsed.error().message;
  }
}

TEST(Protocol, ErrorReplyKeepsTheIdWhenItCouldBeRead) {
  std::uint64_t id = 0;
  auto parsed = parse_request(R"({"v":7,"id":5,"cmd":"ping"})", &id);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(id, 5u);
}

TEST(Protocol, ReplyRoundTripsResultsAndErrors) {
  Reply ok;
  ok.id = 3;
  ok.result = {{"x", 1}};
  auto a = parse_reply(serialize(ok));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->ok);
  EXPECT_EQ(a->result["x"], 1);
  auto b = parse_reply(serialize(make_error_reply(4, core::make_error("not_found", "nope"))));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->ok);
  EXPECT_EQ(b->error.code, "not_found");
  EXPECT_EQ(b->error.message, "nope");
  EXPECT_FALSE(parse_reply("{}").ok());
  EXPECT_FALSE(parse_reply(R"({"v":1,"id":1,"ok":false})").ok());
}

TEST(Protocol, InvalidUtf8InAnErrorMessageDoesNotThrow) {
  auto reply = make_error_reply(1, core::make_error("x", std::string("bad \xff\xfe byte")));
  EXPECT_NO_THROW((void)serialize(reply));
}

std::vector<Binding> all_bindings(std::function<core::Result<Json>(const Json&)> status) {
  std::vector<Binding> b;
  for (const auto& info : kCommands) {
    if (info.name == "status") {
      b.push_back(
          {info.name, [status](const Json& args, const CallContext&) { return status(args); }});
    } else {
      b.push_back(
          {info.name,
           [name = std::string(info.name)](const Json&, const CallContext&) -> core::Result<Json> {
             return Json{{"cmd", name}};
           }});
    }
  }
  return b;
}

TEST(Dispatcher, RequiresExactlyOneHandlerPerCommand) {
  auto missing = Dispatcher::create({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("has no handler"), std::string::npos);

  auto bindings = all_bindings([](const Json&) { return Json::object(); });
  bindings.push_back({"no-such-command", [](const Json&, const CallContext&) { return Json(); }});
  auto extra = Dispatcher::create(std::move(bindings));
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message.find("unknown command"), std::string::npos);

  auto twice = all_bindings([](const Json&) { return Json::object(); });
  twice.push_back({"ping", [](const Json&, const CallContext&) { return Json(); }});
  EXPECT_FALSE(Dispatcher::create(std::move(twice)).ok());
}

TEST(Dispatcher, UnknownCommandGetsAStructuredError) {
  auto d = Dispatcher::create(all_bindings([](const Json&) { return Json::object(); }));
  ASSERT_TRUE(d.ok());
  test::ScriptedStream stream({});
  bool close_after = true;
  auto reply = parse_reply(d->handle(R"({"v":1,"id":9,"cmd":"frobnicate"})", stream, &close_after));
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->id, 9u);
  EXPECT_EQ(reply->error.code, errc::kUnknownCommand);
  EXPECT_FALSE(close_after) << "a well-formed request keeps the connection open";
}

TEST(Dispatcher, AnswersInTheEncodingOfTheRequest) {
  auto d = Dispatcher::create(all_bindings([](const Json&) { return Json{{"n", 7}}; }));
  ASSERT_TRUE(d.ok());
  test::ScriptedStream stream({});
  Request request;
  request.id = 5;
  request.command = "status";
  request.encoding = Encoding::kCbor;
  const std::string answer = d->handle(serialize(request), stream);
  EXPECT_EQ(payload_encoding(answer), Encoding::kCbor);
  auto reply = parse_reply(answer);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->result["n"], 7);
  request.encoding = Encoding::kJson;
  EXPECT_EQ(payload_encoding(d->handle(serialize(request), stream)), Encoding::kJson);
  // A broken CBOR request still gets a CBOR error reply the client can read.
  const std::string broken = serialize(Request{1, Encoding::kCbor, 1, "ping", Json::object()});
  auto error = parse_reply(d->handle(broken.substr(0, broken.size() - 2), stream));
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->error.code, errc::kMalformedRequest);
}

TEST(Dispatcher, MalformedPayloadAsksToCloseTheConnection) {
  auto d = Dispatcher::create(all_bindings([](const Json&) { return Json::object(); }));
  test::ScriptedStream stream({});
  bool close_after = false;
  auto reply = parse_reply(d->handle("{garbage", stream, &close_after));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, errc::kMalformedRequest);
  EXPECT_TRUE(close_after);
}

TEST(Dispatcher, ABusyRefusalAsksToCloseTheConnectionOtherErrorsDoNot) {
  // A refused subscription must not keep holding the connection it was refused on.
  std::string code = errc::kBusy;
  auto d = Dispatcher::create(all_bindings(
      [&code](const Json&) -> core::Result<Json> { return core::make_error(code, "refused"); }));
  ASSERT_TRUE(d.ok());
  test::ScriptedStream stream({});
  bool close_after = false;
  auto busy = parse_reply(d->handle(R"({"v":1,"id":1,"cmd":"status"})", stream, &close_after));
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(busy->error.code, errc::kBusy);
  EXPECT_TRUE(close_after);
  code = errc::kInvalidArgument;
  auto invalid = parse_reply(d->handle(R"({"v":1,"id":2,"cmd":"status"})", stream, &close_after));
  ASSERT_TRUE(invalid.ok());
  EXPECT_EQ(invalid->error.code, errc::kInvalidArgument);
  EXPECT_FALSE(close_after);
}

TEST(Dispatcher, HandlerErrorsAndExceptionsBecomeReplies) {
  auto failing = Dispatcher::create(all_bindings([](const Json&) -> core::Result<Json> {
    return core::make_error("not_found", "no such device");
  }));
  test::ScriptedStream stream({});
  auto a = parse_reply(failing->handle(R"({"v":1,"id":1,"cmd":"status"})", stream));
  EXPECT_EQ(a->error.code, "not_found");
  EXPECT_EQ(a->error.message, "no such device");

  auto throwing = Dispatcher::create(
      all_bindings([](const Json&) -> core::Result<Json> { throw std::runtime_error("boom"); }));
  auto b = parse_reply(throwing->handle(R"({"v":1,"id":2,"cmd":"status"})", stream));
  EXPECT_EQ(b->error.code, errc::kInternal);
  EXPECT_NE(b->error.message.find("boom"), std::string::npos);
}

TEST(Dispatcher, WriteAndAdminCommandsNeedAnAuthorisedPeer) {
  // Every write command in the table is refused to a read-only peer before its handler runs, and
  // every admin command to anyone but an admin (an operator may write but not change credentials).
  bool ran = false;
  std::vector<Binding> bindings;
  for (const auto& info : kCommands) {
    bindings.push_back({info.name, [&ran](const Json&, const CallContext&) -> core::Result<Json> {
                          ran = true;
                          return Json::object();
                        }});
  }
  auto d = Dispatcher::create(std::move(bindings));
  ASSERT_TRUE(d.ok());
  PeerIdentity reader{"uid 1234 (guest)", 1, false, false};
  PeerIdentity operator_peer{"uid 1001 (staging)", 1, true, false};
  PeerIdentity admin{"uid 0 (root)", 1, true, true};
  int admin_commands = 0;
  for (const auto& info : kCommands) {
    Request r;
    r.id = 1;
    r.command = std::string(info.name);
    for (const ArgSpec& spec : info.args) {  // the required arguments, of the right types
      if (!spec.required) continue;
      r.args[std::string(spec.name)] = spec.type == ArgType::kDevices ? Json::array() : Json("S1");
    }
    ran = false;
    Reply as_reader = d->dispatch(r, reader);
    if (info.permission == Permission::kRead) {
      EXPECT_TRUE(as_reader.ok) << info.name;
    } else {
      EXPECT_FALSE(as_reader.ok) << info.name;
      EXPECT_EQ(as_reader.error.code, errc::kPermissionDenied);
      EXPECT_NE(as_reader.error.message.find("guest"), std::string::npos);
      EXPECT_FALSE(ran);
    }
    ran = false;
    Reply as_operator = d->dispatch(r, operator_peer);
    if (info.permission == Permission::kAdmin) {
      ++admin_commands;
      EXPECT_FALSE(as_operator.ok) << info.name;
      EXPECT_EQ(as_operator.error.code, errc::kPermissionDenied);
      EXPECT_NE(as_operator.error.message.find("credentials"), std::string::npos);
      EXPECT_NE(as_operator.error.message.find("staging"), std::string::npos);
      EXPECT_FALSE(ran);
    } else {
      EXPECT_TRUE(as_operator.ok) << info.name;
    }
    EXPECT_TRUE(d->dispatch(r, admin).ok) << info.name;
  }
  EXPECT_GE(admin_commands, 2) << "set-credentials and clear-credentials are admin commands";
  EXPECT_EQ(find_command("set-credentials")->permission, Permission::kAdmin);
  EXPECT_EQ(find_command("clear-credentials")->permission, Permission::kAdmin);
  EXPECT_EQ(find_command("config")->permission, Permission::kRead);
  EXPECT_EQ(permission_name(Permission::kAdmin), "admin");
}

TEST(CommandTable, NamesAreUniqueAndLookupWorks) {
  for (std::size_t i = 0; i < kCommands.size(); ++i) {
    for (std::size_t j = i + 1; j < kCommands.size(); ++j) {
      EXPECT_NE(kCommands[i].name, kCommands[j].name);
    }
    EXPECT_EQ(find_command(kCommands[i].name), &kCommands[i]);
  }
  EXPECT_EQ(find_command("nope"), nullptr);
}

}  // namespace
}  // namespace hangar::ipc

namespace hangar::ipc {
namespace {

// Every declared argument of every command, given a value of each wrong type, is refused with
// invalid_argument naming the argument, before the handler runs.
TEST(CommandTable, EveryArgumentOfEveryCommandRefusesEveryWrongType) {
  bool ran = false;
  std::vector<Binding> bindings;
  for (const auto& info : kCommands) {
    bindings.push_back({info.name, [&ran](const Json&, const CallContext&) -> core::Result<Json> {
                          ran = true;
                          return Json::object();
                        }});
  }
  auto d = Dispatcher::create(std::move(bindings));
  ASSERT_TRUE(d.ok());
  const PeerIdentity admin{"uid 0 (root)", 1, true, true};
  // Each value with the one argument type that takes it: a count is a non-negative integer.
  const std::vector<std::pair<Json, std::optional<ArgType>>> values{
      {Json("text"), ArgType::kString},
      {Json(12), ArgType::kCount},
      {Json(-1), std::nullopt},
      {Json(1.5), std::nullopt},
      {Json(true), ArgType::kBoolean},
      {Json::array({1}), ArgType::kDevices},
      {Json::object({{"a", 1}}), std::nullopt},
      {Json::binary({1, 2}), std::nullopt}};
  int checked = 0;
  for (const auto& info : kCommands) {
    for (const ArgSpec& spec : info.args) {
      for (const auto& [value, taken_by] : values) {
        if (taken_by == spec.type) continue;
        Request r;
        r.id = 1;
        r.command = std::string(info.name);
        // The other required arguments are present and right, so only this one is wrong.
        for (const ArgSpec& other : info.args) {
          if (!other.required || other.name == spec.name) continue;
          r.args[std::string(other.name)] = other.type == ArgType::kString    ? Json("S1")
                                            : other.type == ArgType::kCount   ? Json(1)
                                            : other.type == ArgType::kBoolean ? Json(true)
                                                                              : Json::array();
        }
        r.args[std::string(spec.name)] = value;
        ran = false;
        Reply reply = d->dispatch(r, admin);
        ++checked;
        EXPECT_FALSE(ran) << info.name << " " << spec.name << " = " << value.dump();
        ASSERT_FALSE(reply.ok) << info.name << " " << spec.name << " = " << value.dump();
        EXPECT_EQ(reply.error.code, errc::kInvalidArgument) << reply.error.message;
        EXPECT_NE(reply.error.message.find("\"" + std::string(spec.name) + "\""), std::string::npos)
            << info.name << ": " << reply.error.message;
        EXPECT_EQ(reply.error.message.find("text"), std::string::npos)
            << "a string's content is never quoted: " << reply.error.message;
      }
    }
    // An argument the command does not declare is named too.
    Request unknown;
    unknown.id = 2;
    unknown.command = std::string(info.name);
    unknown.args["no_such_argument"] = 1;
    Reply reply = d->dispatch(unknown, admin);
    ASSERT_FALSE(reply.ok) << info.name;
    EXPECT_EQ(reply.error.code, errc::kInvalidArgument);
    EXPECT_NE(reply.error.message.find("no_such_argument"), std::string::npos);
  }
  EXPECT_GT(checked, 100);
  // A required argument missing is named as well.
  Request show;
  show.id = 3;
  show.command = "show";
  Reply missing = d->dispatch(show, admin);
  ASSERT_FALSE(missing.ok);
  EXPECT_NE(missing.error.message.find("\"serial\""), std::string::npos);
}

TEST(Dispatcher, UntrustedValuesAreQuotedShortInErrors) {
  auto d = Dispatcher::create(all_bindings([](const Json&) { return Json::object(); }));
  ASSERT_TRUE(d.ok());
  test::ScriptedStream stream({});
  // The longest a request's string may be (64 KiB): quoted by its length only.
  const std::string long_name(60'000, 'x');
  auto reply = parse_reply(d->handle(R"({"v":1,"id":9,"cmd":")" + long_name + R"("})", stream));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, errc::kUnknownCommand);
  EXPECT_LT(reply->error.message.size(), 300u);
  EXPECT_NE(reply->error.message.find("60000 bytes"), std::string::npos);
  auto unknown_arg = parse_reply(
      d->handle(R"({"v":1,"id":9,"cmd":"ping","args":{")" + long_name + R"(":1}})", stream));
  ASSERT_TRUE(unknown_arg.ok());
  EXPECT_EQ(unknown_arg->error.code, errc::kInvalidArgument);
  EXPECT_LT(unknown_arg->error.message.size(), 300u);
  // Longer than that, the request is refused before it is parsed, without the value.
  const std::string huge_name(1'000'000, 'x');
  auto huge = parse_reply(d->handle(R"({"v":1,"id":9,"cmd":")" + huge_name + R"("})", stream));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->error.code, errc::kMalformedRequest);
  EXPECT_LT(huge->error.message.size(), 300u);
  EXPECT_NE(huge->error.message.find("longer than 65536 bytes"), std::string::npos)
      << huge->error.message;
}

TEST(Dispatcher, AReplyTooLargeForAFrameBecomesAnErrorReply) {
  auto d = Dispatcher::create(all_bindings([](const Json&) -> core::Result<Json> {
    return Json{{"blob", std::string(5000, 'b')}};
  }));
  ASSERT_TRUE(d.ok());
  test::ScriptedStream stream({});
  auto reply = parse_reply(
      d->handle(R"({"v":1,"id":4,"cmd":"status"})", stream, nullptr, nullptr, nullptr, 1000));
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->id, 4u);
  EXPECT_EQ(reply->error.code, errc::kFrameTooLarge);
  EXPECT_NE(reply->error.message.find("\"status\""), std::string::npos) << reply->error.message;
}

TEST(Protocol, JsonSizeIsAnUpperBoundOfTheText) {
  const Json value{{"a", "quote \" and \\ and \n and \x01"},
                   {"b", Json::array({1, -2, 3.25, true, nullptr})},
                   {"c", "caf\xc3\xa9"},
                   {"d", Json::object()}};
  EXPECT_GE(json_size(value), value.dump().size());
  EXPECT_LE(json_size(value), value.dump().size() * 3);
}

}  // namespace
}  // namespace hangar::ipc
