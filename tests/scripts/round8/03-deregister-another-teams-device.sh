#!/usr/bin/env bash
# Kept from the black-box attack of round 8 (issue 13). Exit 1 + "DEFECT" while the defect is there.
source "$(dirname "${BASH_SOURCE[0]}")/../attack_common.sh"
# `deregister SERIAL --yes` deleted the Autopilot registration of a device Hangar never had, tagged
# for another team. Without --force it is refused, changing nothing; --force deletes it.
"$B/hangar-devicegen" -o a.csv --devices FOR:1 >/dev/null
HASH=$(sed -n 2p a.csv | cut -d, -f3 | tr -d '\r')
start_sim_json "{\"time_scale\":60,\"tenant\":{\"devices\":[{\"serial_number\":\"OTHERTEAM1\",\"hardware_hash\":\"$HASH\",\"manufacturer\":\"Contoso\",\"model\":\"Laptop 7\",\"group_tag\":\"FinanceTeam\"}]}}"
start_svc
H sync >/dev/null 2>&1
count(){ curl -s "$U/_sim/stats" | grep -o '"autopilot_devices": *[0-9]*' | grep -o '[0-9]*$'; }
[ "$(count)" = 1 ] || { echo "setup: the tenant does not hold the device"; exit 2; }
out=$(H deregister OTHERTEAM1 --yes 2>&1); rc=$?
echo "deregister rc=$rc: $out"
[ "$(count)" = 1 ] || { echo "DEFECT: another team's device, never in the queue, was deleted"; exit 1; }
[ $rc -eq 1 ] && echo "$out" | grep -q "FinanceTeam is another team's" && echo "$out" | grep -q -- "--force" \
  || { echo "DEFECT: the refusal does not name the tag and --force"; exit 1; }
H deregister OTHERTEAM1 --yes --force >/dev/null 2>&1 || { echo "DEFECT: --force does not delete it"; exit 1; }
[ "$(count)" = 0 ] || { echo "DEFECT: --force said done, the tenant still lists it"; exit 1; }
echo OK; exit 0
