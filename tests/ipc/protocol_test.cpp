// Protocol parsing and dispatch: malformed requests, versions, unknown commands, permissions.
#include <gtest/gtest.h>

#include <stdexcept>

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

TEST(Dispatcher, MalformedPayloadAsksToCloseTheConnection) {
  auto d = Dispatcher::create(all_bindings([](const Json&) { return Json::object(); }));
  test::ScriptedStream stream({});
  bool close_after = false;
  auto reply = parse_reply(d->handle("{garbage", stream, &close_after));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, errc::kMalformedRequest);
  EXPECT_TRUE(close_after);
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

TEST(Dispatcher, WriteCommandsNeedAnAuthorisedPeer) {
  // Every write command in the table is refused to a read-only peer before its handler runs.
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
  PeerIdentity reader{"uid 1234 (guest)", 1, false};
  PeerIdentity writer{"uid 0 (root)", 1, true};
  for (const auto& info : kCommands) {
    Request r;
    r.id = 1;
    r.command = std::string(info.name);
    ran = false;
    Reply as_reader = d->dispatch(r, reader);
    if (info.permission == Permission::kWrite) {
      EXPECT_FALSE(as_reader.ok) << info.name;
      EXPECT_EQ(as_reader.error.code, errc::kPermissionDenied);
      EXPECT_NE(as_reader.error.message.find("guest"), std::string::npos);
      EXPECT_FALSE(ran);
    } else {
      EXPECT_TRUE(as_reader.ok) << info.name;
    }
    EXPECT_TRUE(d->dispatch(r, writer).ok) << info.name;
  }
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
