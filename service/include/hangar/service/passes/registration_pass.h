// The registration pass: sends queued devices to the cloud from the durable store, in batches;
// polls the import records; confirms registered devices in the tenant (Ready for user once their
// deployment profile is assigned); deletes its own finished import records; recovers devices an
// interruption left in doubt. Every request goes through the CloudBudget (Intune's lane).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hangar/cloud/registration.h"
#include "hangar/service/engine_config.h"

namespace hangar::service {

class RegistrationPass {
 public:
  RegistrationPass(PassContext context, CloudSource<cloud::RegistrationCloud> cloud);

  // Recover in-doubt devices, upload what is due, poll what is pending, delete finished import
  // records. `upload_only_then_poll`: see Engine::step().
  // `uploads_paused` (hangar pause): nothing new is sent; devices already sent are still polled,
  // confirmed and tidied up.
  void run(std::int64_t now, bool uploads_paused = false);
  // The earliest moment this pass has work that can be done (given the store's counts).
  std::int64_t next_wake(std::int64_t now, bool have_queued, bool have_pending) const;
  // An import record of ours that is no longer followed: deleted with the finished ones.
  void forget_import_record(std::string record_id) { deletions_.push_back({std::move(record_id)}); }
  // `hangar remove SERIAL --force` of a Registration Pending device, on the engine's thread. With
  // an import record still followed, the cloud is asked first (the record, then the tenant by
  // serial): a device whose import finished is registered in Autopilot, so it is kept (marked
  // registered) and the removal refused with the way out (`hangar deregister`); otherwise the
  // record is deleted and the device removed. Error codes: not_found, conflict, the cloud's, or
  // CloudBudget::kNotNow with retry_after (nothing removed).
  struct Withdrawn {
    store::DeviceRow device;            // as it was
    std::string import_record_deleted;  // empty: none
  };
  // `by`: who asked (recorded with the device's leaving in its history).
  core::Result<Withdrawn> withdraw(const std::string& serial, std::int64_t now,
                                   const std::string& by = {});
  // Before `hangar deregister`: a Registration Pending device whose import record is still
  // followed has that record read once, as the next poll would, so an import Intune finished
  // since (registered) is settled now (marked registered) instead of the deregister being sent
  // to `remove --force`. Nothing to do for any other device. Errors: the cloud's, or kNotNow.
  core::Status settle_import(const std::string& serial, std::int64_t now);
  // New credentials: poll at once.
  // New credentials: poll at once, and every queued device is due (its wait was earned with the
  // old ones: black-box round 10, a verified new secret left the uploads 5 minutes off).
  void credentials_changed(std::int64_t now);

 private:
  // In-doubt devices (a crash or an unreadable answer left them in flight): each is looked up by
  // serial among the import records, or the whole table is listed when that takes fewer
  // requests or the service refuses the serial filter; found ones are adopted, the rest queued.
  void recover(std::int64_t now);
  // True when a batch was sent (the call answered or not).
  bool upload(std::int64_t now);
  // One import call refused as a whole (400) may hold one bad record: the batch is halved until
  // the culprit stands alone. When two devices are refused alone, each for a cause that is not its
  // hash, and no part of the batch was taken, one device from the far end of the batch is sent
  // alone: refused too, the cloud refuses the request itself, not a record, so nobody is marked
  // failed, the batch waits on a backoff and the refusal is tracked (three passes running:
  // `hangar status` needs attention); taken, the halving goes on.
  struct Bisection {
    bool accepted = false;  // some part of the batch was imported: the request form works
    bool settled = false;   // the far-end device was tried: no more doubt about the form
    std::vector<std::pair<store::DeviceRow, core::Error>> refused_alone;  // failed at the end
    bool suspect = false;                    // two refused alone, nothing taken: the form?
    std::vector<store::DeviceRow> not_sent;  // left unsent while the form is in doubt
    // How many of refused_alone were refused before any part was taken: a refusal of the request
    // that ended meanwhile may have been theirs (see send()).
    std::size_t refused_before_taken = 0;
  };
  void send(std::vector<store::DeviceRow> batch, std::int64_t now);
  void send_part(std::vector<store::DeviceRow> batch, std::int64_t now, Bisection& bisection);
  void hold_refused_import(
      const std::vector<std::pair<store::DeviceRow, core::Error>>& refused_alone,
      const std::vector<store::DeviceRow>& not_sent, std::int64_t now);
  void poll(std::int64_t now);
  // True when the device is now registered (its profile still to be confirmed).
  bool settle(const store::DeviceRow& device, const cloud::ImportRecord& record, std::int64_t now);
  // Registered devices: Ready for user once the tenant lists them, under their group tag, with a
  // deployment profile assigned; one paged list per group tag. False when the pass must stop
  // (budget, throttle, failure).
  bool confirm(const std::vector<const store::DeviceRow*>& devices, std::int64_t now);
  // A device still Registration Pending for `cause`: flagged past the warning threshold (the
  // cause kept up to date), Registration failed with that cause past the limit (its import record,
  // if any, deleted). True when it failed now.
  bool flag_if_long_pending(const store::DeviceRow& device, std::int64_t now,
                            const std::string& cause);
  // Deletes finished import records, at most `limit` this pass (housekeeping yields to imports).
  // A record whose DELETE fails (5xx, refused, in doubt) backs off on its own and is reported
  // (cloud_health: `hangar status` lists a DELETE the cloud keeps refusing, with its request
  // id); only a real throttle (429) or a cloud that cannot be reached holds the lane, as it does
  // for every request.
  void delete_finished(std::size_t limit, std::int64_t now);
  // A failed poll or confirmation: the next poll waits as the budget says.
  void poll_failed(const core::Error& error, std::int64_t now);

  // ---- reads with a fallback (registration_reads.cpp). An error with code CloudBudget::kNotNow
  // means "not now, nothing failed"; other errors are the cloud's. A refused request form is
  // tracked in the health, and its fallback used once the refusal persists.
  // The import records of `devices` (Registration Pending with a record id), by record id: the
  // whole table when that takes fewer requests than one GET per record; a record that is gone is
  // absent.
  core::Result<std::map<std::string, cloud::ImportRecord>> read_import_records(
      const std::vector<const store::DeviceRow*>& devices, std::int64_t now);
  // The Autopilot devices whose group tag contains `tag` (every device, filtered here, while the
  // service refuses the filter).
  core::Result<std::vector<cloud::AutopilotDevice>> read_tagged(const std::string& tag,
                                                                std::int64_t now);
  // The tenant's Autopilot device that is `device` (nullopt: not in the tenant): found by serial
  // and, where the tenant lists several with that serial, by make and model (same_machine.h).
  core::Result<std::optional<cloud::AutopilotDevice>> read_device(const store::DeviceRow& device,
                                                                  std::int64_t now);
  // Every Autopilot device, listed at most once per pass.
  core::Result<std::vector<cloud::AutopilotDevice>> read_all_devices(std::int64_t now);
  // Rough pages of the import table (1,000 records a page): ours pending plus the others seen.
  std::size_t import_table_pages(std::size_t ours) const;

  PassContext ctx_;
  CloudPort<cloud::RegistrationCloud> cloud_;
  bool recovered_ = false;
  std::int64_t next_poll_ = 0;
  std::size_t foreign_records_ = 0;  // import records not ours, seen in the last whole-table list
  struct Deletion {
    std::string record_id;
    int failures = 0;             // failed DELETEs of this record in a row
    std::int64_t not_before = 0;  // its own backoff after a failure
  };
  std::deque<Deletion> deletions_;  // finished import records to delete (ours only)
  int import_refusals_ = 0;         // batches in a row whose import request was refused
  std::optional<std::vector<cloud::AutopilotDevice>> all_devices_;  // read_all_devices(), per pass
};

}  // namespace hangar::service
