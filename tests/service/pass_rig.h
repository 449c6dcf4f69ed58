// What the tests of a pass (and of the engine) share: a store in a temporary file, a fake clock,
// the configuration, the cloud's health and the budget every request goes through.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "hangar/service/cloud_budget.h"
#include "hangar/service/cloud_health.h"
#include "hangar/service/engine_config.h"
#include "hangar/store/store.h"

namespace hangar::service::test {

using namespace std::chrono_literals;

class PassRig : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("hangar-pass-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    store_ = std::move(store::Store::open(path_)).value();
    config_.batch_size = 10;
    config_.poll_interval = 30s;
    config_.seed = 42;
  }
  void TearDown() override {
    store_.reset();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }
  // The budget, once the test has set config_; what a pass is made with.
  PassContext context() {
    if (!budget_) budget_.emplace(clock_, config_.budget(), health_);
    return {*store_, *budget_, health_, clock_, config_};
  }
  // What the engine does before each round of passes.
  void begin_pass() {
    budget_->begin_pass();
    health_.begin_pass();
  }

  // One round of a pass whose next_wake() needs only the time, as the engine runs it; returns
  // how long until the pass has work again.
  template <class Pass>
  std::chrono::milliseconds round(Pass& pass) {
    begin_pass();
    const std::int64_t now = clock_.now_ms();
    pass.run(now);
    return std::chrono::milliseconds(std::max<std::int64_t>(pass.next_wake(now) - now, 0));
  }
  // Runs rounds, moving the fake clock by each one's delay, until `total` has passed.
  template <class Step>
  void run_rounds(std::chrono::milliseconds total, Step step) {
    const std::int64_t end = clock_.now_ms() + total.count();
    while (clock_.now_ms() < end) clock_.advance(std::max(step(), std::chrono::milliseconds(1)));
  }

  void queue(const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      store::NewDevice device;
      device.serial = prefix + std::to_string(i);
      device.hardware_hash = std::vector<std::uint8_t>{'O', 'A', static_cast<std::uint8_t>(i)};
      device.profile = "standard";
      device.created_at = clock_.now_ms();
      ASSERT_TRUE(store_->insert_device(device).ok());
    }
  }
  void queue_profile(const std::string& serial, const std::string& profile) {
    store::NewDevice device;
    device.serial = serial;
    device.hardware_hash = std::vector<std::uint8_t>{'O', 'A', 'G'};
    device.hardware_hash->insert(device.hardware_hash->end(), serial.begin(), serial.end());
    device.profile = profile;
    device.created_at = clock_.now_ms();
    ASSERT_TRUE(store_->insert_device(device).ok());
  }
  // A device registration has finished with (Ready for user, its Autopilot id), and the Entra ID
  // device id the activity pass read, if any.
  void registered(const std::string& serial, const std::string& profile = "standard",
                  const std::string& azure_ad_device_id = "") {
    queue_profile(serial, profile);
    auto row = store_->get_device(serial);
    ASSERT_TRUE(row.ok());
    auto claimed = store_->claim_upload_batch(clock_.now_ms(), 1'000'000);
    ASSERT_TRUE(claimed.ok());
    for (const auto& other : *claimed) {
      if (other.serial == serial) continue;  // others stay queued
      ASSERT_TRUE(
          store_->release_upload(other.serial, std::nullopt, false, {}, clock_.now_ms()).ok());
    }
    ASSERT_TRUE(
        store_->mark_uploaded(serial, "rec-" + serial, "rec-" + serial, clock_.now_ms()).ok());
    ASSERT_TRUE(store_->mark_registered(serial, "ap-" + serial, clock_.now_ms()).ok());
    ASSERT_TRUE(store_
                    ->finish_registration(serial, core::DeviceState::kReadyForUser, std::nullopt,
                                          std::nullopt, std::nullopt, "registered", clock_.now_ms())
                    .ok());
    if (!azure_ad_device_id.empty()) {
      store::ActivityUpdate update;
      update.id = row->id;
      update.cloud_device_id = "ap-" + serial;
      update.azure_ad_device_id = azure_ad_device_id;
      ASSERT_TRUE(
          store_->apply_activity(std::vector<store::ActivityUpdate>{update}, clock_.now_ms()).ok());
    }
  }
  std::int64_t count(core::DeviceState state) { return store_->count_by_state()->at(state); }

  std::filesystem::path path_;
  std::unique_ptr<store::Store> store_;
  core::FakeClock clock_;
  EngineConfig config_;
  CloudHealth health_;
  std::optional<CloudBudget> budget_;
};

}  // namespace hangar::service::test
