// "Device not found" for a serial the tenant lists (attack round 5, finding 10): the tenant's
// device is taken as ours only when it can be ours, the serial and, where both sides know them,
// the make and model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "registration_pass_rig.h"

namespace hangar::service::test {
namespace {

using ::testing::HasSubstr;

// Attack round 5, finding 10: a serial the tenant lists already (a partner's device removed from
// the queue, imported again without its hash) is registered, not "Device not found"; one the
// tenant does not list still fails so.
TEST_F(RegistrationPassTest, DeviceNotFoundForASerialTheTenantListsIsRegistered) {
  queue("N", 2);
  cloud_.outcome["N0"] = "ZtdDeviceNotFound";
  cloud_.outcome["N1"] = "ZtdDeviceNotFound";
  cloud_.absent.insert("N1");
  start();
  run_for(31s);
  EXPECT_EQ(store_->get_device("N0")->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(store_->get_device("N0")->cloud_device_id, "ap-N0");
  EXPECT_EQ(store_->get_device("N1")->state, core::DeviceState::kRegistrationFailed);
  EXPECT_EQ(store_->get_device("N1")->failure_reason, "Device not found");
}

// Finding 10's rule matched the tenant's device by serial alone: a serial two manufacturers share
// (another maker's machine in the tenant) was adopted as ours. Where both sides know the make and
// model they must match too (ignoring case and blanks around); otherwise the import's "Device not
// found" stands, and the log says why.
TEST_F(RegistrationPassTest, DeviceNotFoundAdoptsTheTenantsDeviceOnlyWhenMakeAndModelMatch) {
  const auto queue_made = [&](const std::string& serial, std::optional<std::string> make,
                              std::optional<std::string> model) {
    store::NewDevice device;
    device.serial = serial;
    device.manufacturer = std::move(make);
    device.model = std::move(model);
    device.profile = "standard";
    device.created_at = clock_.now_ms();
    ASSERT_TRUE(store_->insert_device(device).ok());
  };
  const auto in_tenant = [&](const std::string& serial, const std::string& make,
                             const std::string& model) {
    cloud_.outcome[serial] = "ZtdDeviceNotFound";
    cloud_.tenant[serial].manufacturer = make;
    cloud_.tenant[serial].model = model;
  };
  queue_made("SAME", "Microsoft Corporation", "Surface Laptop 5");
  in_tenant("SAME", " MICROSOFT CORPORATION", "surface laptop 5 ");
  queue_made("OTHERMAKE", "Microsoft Corporation", "Surface Laptop 5");
  in_tenant("OTHERMAKE", "Dell Inc.", "Surface Laptop 5");
  queue_made("OTHERMODEL", "Dell Inc.", "Latitude 7440");
  in_tenant("OTHERMODEL", "Dell Inc.", "Latitude 5540");
  // Only one side knows the model: the make is all there is to compare, and it matches.
  queue_made("NOMODEL", "HP", std::nullopt);
  in_tenant("NOMODEL", "HP", "EliteBook 840 G10");
  const auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("registration-test", ring));
  start();
  run_for(31s);
  spdlog::set_default_logger(previous);
  std::string log;
  for (const auto& line : ring->last_formatted()) log += line;

  EXPECT_EQ(store_->get_device("SAME")->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(store_->get_device("SAME")->cloud_device_id, "ap-SAME");
  EXPECT_EQ(store_->get_device("NOMODEL")->state, core::DeviceState::kReadyForUser);
  for (const char* serial : {"OTHERMAKE", "OTHERMODEL"}) {
    auto row = store_->get_device(serial);
    ASSERT_TRUE(row.ok());
    EXPECT_EQ(row->state, core::DeviceState::kRegistrationFailed) << serial;
    EXPECT_EQ(row->failure_reason, "Device not found") << serial;
    EXPECT_FALSE(row->cloud_device_id.has_value()) << serial;
  }
  EXPECT_THAT(log, HasSubstr("device OTHERMAKE: the import says Device not found; Windows "
                             "Autopilot lists serial OTHERMAKE as Dell Inc. Surface Laptop 5, "
                             "not Microsoft Corporation Surface Laptop 5"))
      << log;
  EXPECT_THAT(log, HasSubstr("Windows Autopilot lists serial OTHERMODEL as Dell Inc. Latitude "
                             "5540, not Dell Inc. Latitude 7440"))
      << log;
}

// The tenant may list another maker's machine with our serial before ours: the lookup took only
// the first one, so our machine was never adopted. Every device with the serial is looked at.
TEST_F(RegistrationPassTest, DeviceNotFoundFindsOursAmongMachinesSharingTheSerial) {
  store::NewDevice device;
  device.serial = "TWIN";
  device.manufacturer = "Dell Inc.";
  device.model = "Latitude 7440";
  device.profile = "standard";
  device.created_at = clock_.now_ms();
  ASSERT_TRUE(store_->insert_device(device).ok());
  cloud_.outcome["TWIN"] = "ZtdDeviceNotFound";
  cloud::AutopilotDevice other;
  other.id = "ap-hp-TWIN";
  other.serial = "TWIN";
  other.manufacturer = "HP Inc.";
  other.model = "EliteBook 840";
  cloud_.namesakes.emplace("TWIN", other);
  cloud_.tenant["TWIN"].manufacturer = "Dell Inc.";
  cloud_.tenant["TWIN"].model = "Latitude 7440";
  start();
  run_for(31s);
  EXPECT_EQ(store_->get_device("TWIN")->state, core::DeviceState::kReadyForUser);
  EXPECT_EQ(store_->get_device("TWIN")->cloud_device_id, "ap-TWIN");
}

}  // namespace
}  // namespace hangar::service::test
