#!/bin/sh
# The system test's driver in the guest (run by rackpi-system-test.service
# after multi-user.target): runs the scenario named by rackpi.scenario= on
# the kernel command line, prints PASS/FAIL lines on the console and ends the
# machine. The host's tests/system/run boots the guest once per scenario.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/kernel-sim/bin
. /opt/kernel-sim/lib.sh
echo "INFO: driver started at uptime $(now) s"
scenario= flavour=
for arg in $(cat /proc/cmdline); do
    case $arg in
        rackpi.scenario=*) scenario=${arg#*=} ;;
        rackpi.flavour=*)  flavour=${arg#*=} ;;
    esac
done
cd /mnt/host || exit 1
OUT=/mnt/host/out
journalctl -b -q --no-pager -o short-monotonic > "$OUT/$scenario-boot.log" 2>&1
CONF=/etc/rackpi-panel/config.toml
UNIT=rackpi-panel.service

mainpid() { systemctl show -p MainPID --value $UNIT; }
prop() { systemctl show -p "$1" --value $UNIT; }
# wait_until SECS CMD...: until CMD succeeds; status 1 after SECS
wait_until() {
    _end=$(awk -v s="$1" '{ print $1 + s }' /proc/uptime); shift
    until "$@" >/dev/null 2>&1; do
        awk -v e="$_end" '{ exit !($1 >= e) }' /proc/uptime && return 1
        sleep 0.2
    done
}
running() { [ "$(prop ActiveState)" = active ] && [ "$(prop SubState)" = running ]; }
pid_changed() { [ "$(mainpid)" != "$1" ] && [ "$(mainpid)" != 0 ] && running; }
state_is() { [ "$(prop ActiveState)" = "$1" ]; }
# the cursor of the unit's last entry: journalctl --after-cursor with -u skips
# the first matching entry when the cursor's own entry does not match (it
# steps once past where it lands, systemd 252), so the cursor must match too
cursor() { journalctl -q -u $UNIT -n 1 -o cat --show-cursor | sed -n 's/^-- cursor: //p'; }
# journal_since CURSOR: the unit's messages after CURSOR
journal_since() { journalctl -q -o cat --no-pager -u $UNIT --after-cursor="$1"; }
journal_has() { journal_since "$1" | grep -q -- "$2"; }
# journald may write a line a moment after the event: wait for it
journal_shows() { wait_until 15 journal_has "$1" "$2"; }
user_of() { ps -o user= -p "$1" | tr -d ' '; }
# set_key SECTION 'KEY = VALUE': a line right under [SECTION] of the config
set_key() { sed -i "s/^\[$1\]\$/[$1]\n$2/" $CONF; }
mark() { echo "$1=$(now)" >> "$OUT/$scenario-marks"; }
hold() { button_press; sleep "$1"; button_release; }
# rising edges of the LED over SECS seconds (sampled every 20 ms)
led_blinks() {
    _end=$(awk -v s="$1" '{ print $1 + s }' /proc/uptime) _n=0 _last=$(led_value)
    until awk -v e="$_end" '{ exit !($1 >= e) }' /proc/uptime; do
        read -r _v < "$KS_GPIO_SYSFS/sim_gpio$KS_LED_LINE/value"
        [ "$_last" = 0 ] && [ "$_v" = 1 ] && _n=$((_n + 1))
        _last=$_v
        usleep 20000
    done
    echo $_n
}

install_old() {
    dpkg -i debs/rackpi-panel_old_amd64.deb > "$OUT/$scenario-dpkg-i.log" 2>&1
    check "dpkg -i of the package succeeds" [ $? = 0 ]
    check "the service is active (READY=1 sent) within 60 s" wait_until 60 running
    check_eq "it runs as the user rackpi-panel" rackpi-panel "$(user_of "$(mainpid)")"
    check_eq "/dev/gpiochip0 belongs to the group gpio" gpio "$(stat -c %G /dev/gpiochip0)"
    check_eq "/dev/i2c-1 belongs to the group i2c" i2c "$(stat -c %G /dev/i2c-1)"
    check "the LED is on (idle, alive)" wait_line "$KS_LED_LINE" 1 20
}

# ---------------------------------------------------------------- rpi
scenario_rpi() {
    line_pull "$KS_LED_LINE" down
    install_old
    check "the display was initialised and drawn (I2C writes to 0x3c)" [ "$(i2c_bytes)" -gt 500 ]
    mark started

    # a config edit (kept across the upgrade), taken up by a reload
    sed -i 's/^#timeout_s = 15 .*/timeout_s = 0            # edited: never switch off/' $CONF
    c=$(cursor) pid=$(mainpid)
    systemctl reload $UNIT
    check "systemctl reload of a good config succeeds" [ $? = 0 ]
    check "and the daemon says so" journal_shows "$c" 'configuration reloaded'

    cp $CONF /tmp/good.toml
    set_key power 'settle_ss = 5'
    c=$(cursor)
    systemctl reload $UNIT > "$OUT/rpi-bad-reload.log" 2>&1
    rc=$?
    check "systemctl reload of a bad config fails (exit $rc)" [ $rc != 0 ]
    check "the daemon logged the refusal, naming the key" journal_shows "$c" 'settle_ss'
    check_eq "the daemon keeps running (same PID)" "$pid" "$(mainpid)"
    check "and stays active" running
    cp /tmp/good.toml $CONF

    # SIGSTOP: the watchdog (WatchdogSec=10s) kills it, systemd restarts it
    pid=$(mainpid) c=$(cursor)
    kill -STOP "$pid"
    check "SIGSTOP: the watchdog has it restarted within 60 s" wait_until 60 pid_changed "$pid"
    check "systemd logged the watchdog timeout" \
        sh -c "journalctl -b -q -o cat -u $UNIT | grep -q 'Watchdog timeout'"
    check "the LED is on again after the restart" wait_line "$KS_LED_LINE" 1 20

    # the hostname on the info page, without a restart (the screen stays on now)
    pid=$(mainpid)
    sleep 3; mark named
    hostnamectl set-hostname rackpi-renamed-42
    sleep 3; mark renamed
    hostnamectl set-hostname rackpi
    sleep 3; mark renamed_back
    check_eq "hostname changes need no restart (same PID)" "$pid" "$(mainpid)"

    # a shutdown inhibitor: the reboot is refused, the panel says so
    systemd-inhibit --what=shutdown --mode=block --who=test --why=test sleep 600 &
    inhibitor=$!
    sleep 1
    c=$(cursor)
    hold 9.5
    check "with a shutdown inhibitor the reboot is refused and logged" \
        wait_until 20 journal_has "$c" 'reboot failed'
    # (steady on or off gives 0; the sampling is coarse on a loaded host)
    n=$(led_blinks 8)
    check "the LED blinks the degraded pattern ($n pulses in 8 s)" [ "$n" -ge 2 ]
    check "the machine is still up" true
    kill $inhibitor

    # kill -9: ExecStopPost=rackpi-panel off darkens the panel, then a restart
    pid=$(mainpid) c=$(cursor)
    kill -9 "$pid"
    check "kill -9: ExecStopPost switched the LED off" wait_until 30 journal_has "$c" 'LED.*switched off'
    mark killed_off
    check "kill -9: ExecStopPost switched the display off" journal_shows "$c" 'display.*switched off'
    check "kill -9: restarted" wait_until 60 pid_changed "$pid"

    # systemctl stop: the daemon switches both off itself
    c=$(cursor)
    systemctl stop $UNIT
    check "systemctl stop: stopped" state_is inactive
    check "systemctl stop: the daemon switched the display off (last command 0xAE)" \
        sh -c "grep '^W 3c' /sys/kernel/debug/i2c-recorder/log | tail -1 | grep -q '^W 3c 00 ae$'"
    mark stopped
    check "systemctl stop: clean exit, nothing for ExecStopPost to do" journal_shows "$c" 'nothing to do\|clean exit\|skipped'
    systemctl start $UNIT
    check "systemctl start: running again" wait_until 60 running

    # the sandbox
    security=$(systemd-analyze security $UNIT 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "INFO: systemd-analyze security $UNIT: $security"
    check "systemd-analyze security in the guest: $security <= 1.5" awk -v s="${security:-99}" 'BEGIN { exit !(s <= 1.5) }'
    denials=$(journalctl -b -q -o cat -u $UNIT | grep -E 'Permission denied|Operation not permitted|os error (1|13)\)|seccomp' |
        grep -v -E 'reboot failed|inhibit' || true)
    [ -z "$denials" ] || echo "$denials" | head -5
    check "no permission or seccomp denials in the unit's journal" [ -z "$denials" ]
    check "no SECCOMP audit records from the kernel" sh -c "! journalctl -k -q | grep -q 'type=1326'"
    check "no failed units" sh -c '[ -z "$(systemctl list-units --failed --plain --no-legend)" ]'

    # upgrade: config edits kept, the service restarted
    pid=$(mainpid)
    dpkg -i debs/rackpi-panel_new_amd64.deb > "$OUT/rpi-upgrade.log" 2>&1
    check "dpkg -i of a higher version succeeds" [ $? = 0 ]
    check_eq "the new version is installed" 99.0.0 "$(dpkg-query -W -f='${Version}' rackpi-panel)"
    check "the config edit is kept" grep -q '^timeout_s = 0 .*edited' $CONF
    check "the service was restarted (new PID)" wait_until 60 pid_changed "$pid"

    # remove: stopped, panel dark; purge: config gone
    c=$(cursor)
    apt-get remove -y -q rackpi-panel > "$OUT/rpi-remove.log" 2>&1
    check "apt-get remove succeeds" [ $? = 0 ]
    check "after remove the service is gone" sh -c "! systemctl is-active -q $UNIT"
    check "after remove the display is off (last command 0xAE)" \
        sh -c "grep '^W 3c' /sys/kernel/debug/i2c-recorder/log | tail -1 | grep -q '^W 3c 00 ae$'"
    check "after remove nobody holds the LED line" sh -c "! gpiov2 line $KS_GPIOCHIP $KS_LED_LINE | grep -q 'flags=used'"
    mark removed
    check "remove keeps the config" test -f $CONF
    apt-get purge -y -q rackpi-panel > "$OUT/rpi-purge.log" 2>&1
    check "apt-get purge succeeds" [ $? = 0 ]
    check "purge removes /etc/rackpi-panel" test ! -e /etc/rackpi-panel
    i2c_log_save "$OUT/rpi-i2c.log"
    journalctl -b -q --no-pager > "$OUT/rpi-journal.log"
}

# ---------------------------------------------------------------- plain
scenario_plain() {
    check "plain Debian: no gpio group before the install" sh -c '! getent group gpio'
    install_old
    check "the user rackpi-panel is in the groups gpio and i2c" \
        sh -c 'id -nG rackpi-panel | grep -qw gpio && id -nG rackpi-panel | grep -qw i2c'

    # a bad config at start: exit 78, no restart loop, the key in systemctl status
    cp $CONF /tmp/good.toml
    set_key display 'bogus_key = 1'
    systemctl restart $UNIT 2>/dev/null
    check "a bad config at start: the start fails" [ $? != 0 ]
    sleep 8
    check_eq "no restart after exit 78 (NRestarts)" 0 "$(prop NRestarts)"
    check_eq "the unit is failed, not restarting" failed "$(prop ActiveState)"
    systemctl status $UNIT > "$OUT/plain-status.log" 2>&1
    check "systemctl status names the key" grep -q bogus_key "$OUT/plain-status.log"

    # a daemon that fails at start every time: the start limit ends the loop
    cp /tmp/good.toml $CONF
    set_key led 'line = "GPIO99"'
    systemctl reset-failed $UNIT
    systemctl start $UNIT 2>/dev/null
    # (systemd 252 may keep Result=exit-code and say so in the journal)
    check "a failing start loop ends at the start limit within 90 s" \
        wait_until 90 sh -c "[ \"\$(systemctl show -p Result --value $UNIT)\" = start-limit-hit ] ||
            journalctl -q -u $UNIT | grep -q 'Start request repeated too quickly'"
    n=$(prop NRestarts)
    check "it was restarted, but only a few times ($n)" [ "$n" -ge 1 -a "$n" -le 5 ]
    systemctl status $UNIT > "$OUT/plain-status-loop.log" 2>&1
    sleep 5
    check_eq "and it stays failed" "$n" "$(prop NRestarts)"

    cp /tmp/good.toml $CONF
    systemctl reset-failed $UNIT
    systemctl start $UNIT
    check "after fixing the config it starts again" wait_until 60 running
    dpkg -r rackpi-panel > "$OUT/plain-dpkg-r.log" 2>&1
    check "dpkg -r succeeds" [ $? = 0 ]
    check "after dpkg -r the service is stopped" sh -c "! systemctl is-active -q $UNIT"
    check "after dpkg -r the display is off (last command 0xAE)" \
        sh -c "grep '^W 3c' /sys/kernel/debug/i2c-recorder/log | tail -1 | grep -q '^W 3c 00 ae$'"
    journalctl -b -q --no-pager > "$OUT/plain-journal.log"
}

# ------------------------------------------------------- reboot / poweroff
scenario_press() { # SECONDS
    install_old
    hold "$1"
    echo "INFO: press released after $1 s at uptime $(now)"
    sleep 150
    echo "FAIL: the machine is still up 150 s after the press"
    journalctl -b -q --no-pager -u $UNIT | tail -20
}

rm -f "$OUT/$scenario-marks"
case $scenario in
    rpi)      scenario_rpi ;;
    plain)    scenario_plain ;;
    reboot)   scenario_press 9.5 ;;
    poweroff) scenario_press 13.5 ;;
    *)        echo "FAIL: unknown scenario '$scenario'" ;;
esac
echo "INFO: scenario done at uptime $(now) s"
ks_summary
systemctl poweroff --force --force
