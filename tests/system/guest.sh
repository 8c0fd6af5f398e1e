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

# led_trace SECS: the LED line's changes over SECS (whole) seconds, one
# "CS LEVEL" line each, CS in centiseconds since the start; the first line
# ("0 LEVEL") is the level at the start. Sampled in a loop of shell builtins
# (no fork per sample, so a 100 ms flash is never missed under emulation).
led_trace() {
    _f=$KS_GPIO_SYSFS/sim_gpio$KS_LED_LINE/value
    read -r _up _rest < /proc/uptime
    _t0=${_up%.*}${_up#*.} _end=$((${_up%.*}${_up#*.} + $1 * 100))
    read -r _last < "$_f"
    echo "0 $_last"
    while :; do
        read -r _v < "$_f"
        read -r _up _rest < /proc/uptime
        _t=${_up%.*}${_up#*.}
        [ "$_v" != "$_last" ] && { echo "$((_t - _t0)) $_v"; _last=$_v; }
        [ "$_t" -ge "$_end" ] && break
    done
}
# attention_in TRACE CS: whether the LED changes within CS centiseconds and
# TRACE shows the attention pattern: three flashes within 1.5 s, dark for
# over 0.9 s before and after them (the sampling may start in the middle of
# a group: a whole one is looked for, so TRACE must be about 7 s long);
# prints what it saw
attention_in() {
    echo "$1" | awk -v limit="$2" '
        NR == 1 { next }
        { n++; t[n] = $1; v[n] = $2; if ($2 == 0) { m++; f[m] = n } }
        END {
            if (n == 0) { print "no change"; exit 1 }
            if (t[1] > limit) { printf "the first change after %.2f s\n", t[1] / 100; exit 1 }
            for (i = 1; i + 2 <= m; i++) {
                a = f[i]; c = f[i + 2]
                if (t[c] - t[a] > 150) continue
                if (i > 1 && t[a] - t[f[i - 1]] < 90) continue
                if (c == n || t[c + 1] - t[c] < 90) continue
                printf "changes from %.2f s; three flashes at %.2f s, then dark %.2f s\n", t[1] / 100, t[a] / 100, (t[c + 1] - t[c]) / 100
                exit 0
            }
            printf "changes from %.2f s, but no group of three flashes (%d changes, %d flashes)\n", t[1] / 100, n, m
            exit 1
        }'
}
# steady_on_within TRACE CS: whether the LED is lit and steady from CS
# centiseconds on (to the end of TRACE); prints what it saw
steady_on_within() {
    echo "$1" | awk -v limit="$2" '
        { n++; t = $1; v = $2 }
        END {
            printf "%d changes, the last at %.2f s, lit at the end: %s\n", n - 1, t / 100, v == 1 ? "yes" : "no"
            exit !(v == 1 && t <= limit)
        }'
}
# blink_hz TRACE: the rate of the LED's flashes in TRACE (rising edges over
# the time from the first to the last), "0" for fewer than 3
blink_hz() {
    echo "$1" | awk '
        NR > 1 && $2 == 1 { n++; if (n == 1) first = $1; last = $1 }
        END { if (n < 3 || last == first) print 0; else printf "%.1f\n", (n - 1) * 100 / (last - first) }'
}
quiet() { "$@" > /dev/null; }
# screen_on_by_tap CS: taps the button (the screen off) and prints after how
# many centiseconds from the press the display was switched on (its last
# command no longer 0xAE); status 1 when not within CS
screen_on_by_tap() {
    read -r _up _rest < /proc/uptime; _t0=${_up%.*}${_up#*.}
    button_press; usleep 100000; button_release
    while :; do
        read -r _up _rest < /proc/uptime; _t=${_up%.*}${_up#*.}
        display_off || { echo "$((_t - _t0)) cs"; return 0; }
        [ $((_t - _t0)) -gt "$1" ] && { echo "not within $1 cs"; return 1; }
        usleep 20000
    done
}
# slow_bus SECS: restarts the system bus, whose daemon then takes SECS to
# start: meanwhile systemd's dbus.socket takes connections and nobody
# answers them (as a bus that is stopped, hung, or starting on a loaded
# machine)
slow_bus() {
    mkdir -p /run/systemd/system/dbus.service.d
    printf '[Service]\nExecStartPre=/bin/sleep %s\n' "$1" > /run/systemd/system/dbus.service.d/slow.conf
    systemctl daemon-reload
    systemctl restart --no-block dbus.service
}
bus_fast_again() {
    rm -rf /run/systemd/system/dbus.service.d
    systemctl daemon-reload
}
# cpu_ticks_over SECS PID: the user and system clock ticks PID spends over SECS
cpu_ticks_over() {
    _t0=$(awk '{ print $14 + $15 }' /proc/"$2"/stat 2>/dev/null || echo 0)
    sleep "$1"
    _t1=$(awk '{ print $14 + $15 }' /proc/"$2"/stat 2>/dev/null || echo "$_t0")
    echo $((_t1 - _t0))
}
# no_watchdog_since CURSOR: systemd logged no watchdog request or timeout for the unit
no_watchdog_since() { ! journal_since "$1" | grep -qi 'watchdog'; }
# the daemon's memory, from /proc (kB)
memory() {
    awk '/^(VmHWM|VmRSS|RssAnon|RssFile|Threads):/ { printf "%s %s ", $1, $2 }' /proc/"$(mainpid)"/status
}
# the display is off: the last command to it was 0xAE
display_off() { grep '^W 3c' "$KS_I2C/log" | tail -1 | grep -q '^W 3c 00 ae$'; }
# no_denials: no permission or seccomp denial in the unit's journal, nor
# from the kernel
no_denials() {
    denials=$(journalctl -b -q -o cat -u $UNIT | grep -E 'Permission denied|Operation not permitted|os error (1|13)\)|seccomp' |
        grep -v -E 'reboot failed|inhibit' || true)
    [ -z "$denials" ] || echo "$denials" | head -5
    check "no permission or seccomp denials in the unit's journal" [ -z "$denials" ]
    check "no SECCOMP audit records from the kernel" sh -c "! journalctl -k -q | grep -q 'type=1326'"
}

install_old() {
    dpkg -i debs/rackpi-panel_old_*.deb > "$OUT/$scenario-dpkg-i.log" 2>&1
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

    # a page whose command leaves a process outside its group (setsid), run
    # every 2 s while it is next after the info page: each run kills it
    # (the daemon is its subreaper), and the daemon's threads stay flat
    cp $CONF /tmp/good.toml
    sed -i 's/^#pages = .*/pages = ["info", "leaves"]/' $CONF
    printf '\n[[page]]\nname = "leaves"\ncommand = ["/bin/sh", "-c", "setsid sleep 601 & echo hi"]\nevery_s = 2\ntimeout_s = 1\n' >> $CONF
    c=$(cursor) pid=$(mainpid)
    systemctl reload $UNIT
    check "a reload adds the page" journal_shows "$c" 'configuration reloaded'
    sleep 1
    threads_first=$(ls /proc/$pid/task | wc -l)
    sleep 8
    threads_later=$(ls /proc/$pid/task | wc -l)
    check "each run kills what it left behind, and says so" \
        journal_shows "$c" 'page leaves: killed 1 process left behind'
    strays=$(pgrep -c -x -f 'sleep 601' || true)
    check "at most the last run's stray is running ($strays)" [ "$strays" -le 1 ]
    check "the daemon's threads stay flat ($threads_first, then $threads_later)" \
        [ "$threads_later" -le "$threads_first" ]
    cp /tmp/good.toml $CONF
    systemctl reload $UNIT

    # the sandbox
    security=$(systemd-analyze security $UNIT 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "INFO: systemd-analyze security $UNIT: $security"
    check "systemd-analyze security in the guest: $security <= 1.5" awk -v s="${security:-99}" 'BEGIN { exit !(s <= 1.5) }'
    no_denials
    check "no failed units" sh -c '[ -z "$(systemctl list-units --failed --plain --no-legend)" ]'

    # upgrade: config edits kept, the service restarted
    pid=$(mainpid)
    dpkg -i debs/rackpi-panel_new_*.deb > "$OUT/rpi-upgrade.log" 2>&1
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

# ----------------------------------------------------------- attention
scenario_attention() {
    line_pull "$KS_LED_LINE" down
    install_old
    check "no failed units before the test" sh -c '[ -z "$(systemctl list-units --failed --plain --no-legend)" ]'
    check "the display goes off after its timeout (15 s)" wait_until 40 display_off
    echo "INFO: memory, following units, nothing failed: $(memory)"

    # a failed unit: the LED within 2 s, the attention page on a press
    c=$(cursor)
    systemd-run -q --unit=x false
    trace=$(led_trace 7)
    echo "$trace" | tr '\n' ' ' > "$OUT/attention-led-unit.txt"
    seen=$(attention_in "$trace" 200)
    check "systemd-run --unit=x false: the LED shows attention within 2 s ($seen)" quiet attention_in "$trace" 200
    check "the daemon logged the failed unit" journal_shows "$c" 'unit failed: x.service'
    check "the screen stayed dark (a failure does not switch it on)" display_off
    mark unit_failed
    button_tap
    sleep 2
    mark attention_page
    check "a press switches the display on" sh -c '! grep "^W 3c" /sys/kernel/debug/i2c-recorder/log | tail -1 | grep -q "^W 3c 00 ae$"'

    # systemctl reset-failed: the LED back to normal within 2 s
    c=$(cursor)
    systemctl reset-failed
    trace=$(led_trace 4)
    echo "$trace" | tr '\n' ' ' > "$OUT/attention-led-reset.txt"
    seen=$(steady_on_within "$trace" 200)
    mark attention_cleared
    check "systemctl reset-failed: the LED is steadily on again within 2 s ($seen)" quiet steady_on_within "$trace" 200
    check "the daemon logged that nothing needs attention" journal_shows "$c" 'nothing needs attention'
    # the journal's priorities: the failure is a warning, the recovery is not
    check "journalctl -p warning has the failed unit" sh -c "journalctl -q -o cat -u $UNIT -p warning | grep -q 'unit failed: x.service'"
    check "and not the recovery (info)" sh -c "! journalctl -q -o cat -u $UNIT -p warning | grep -q 'nothing needs attention'"
    check "no log line carries level text ([INFO …])" sh -c "! journalctl -q -o cat -u $UNIT | grep -q '^\[\(INFO\|WARN\|ERROR\)'"

    # notify: the members of rackpi-notify may send, others are refused
    useradd --no-create-home --shell /bin/sh --groups rackpi-notify alice
    useradd --no-create-home --shell /bin/sh bob
    c=$(cursor)
    runuser -u alice -- rackpi-panel notify --level error --for 10s "alice: backup failed" > "$OUT/attention-alice.log" 2>&1
    rc=$?
    check "notify --level error as alice (in rackpi-notify) succeeds (exit $rc)" [ $rc = 0 ]
    trace=$(led_trace 7)
    echo "$trace" | tr '\n' ' ' > "$OUT/attention-led-notify.txt"
    seen=$(attention_in "$trace" 200)
    check "and the LED shows attention within 2 s ($seen)" quiet attention_in "$trace" 200
    check "the daemon logged alice's message" journal_shows "$c" 'message (error): alice: backup failed'
    runuser -u bob -- rackpi-panel notify --level error "bob was here" > "$OUT/attention-bob.log" 2>&1
    rc=$?
    echo "INFO: bob: $(cat "$OUT/attention-bob.log")"
    check "notify as bob (not in rackpi-notify) is refused (exit $rc)" [ $rc != 0 ]
    check "with a message that says why and what to do" \
        grep -q 'not allowed to send to the panel.*group rackpi-notify' "$OUT/attention-bob.log"
    check "bob's message never reached the daemon" sh -c "! journalctl -q -o cat -u $UNIT --after-cursor='$c' | grep -q 'bob was here'"

    # a member's attacks on the socket: answers steered into systemd's notify
    # socket (STATUS=, WATCHDOG=trigger) or back into the daemon's own (each
    # answer a new request, for ever); the same text over a connection
    SOCK=/run/rackpi-panel/notify.sock ATTACK=/usr/local/bin/notify-attack
    install -m 755 /mnt/host/notify-attack $ATTACK
    check "the attacker's helper is there (built by tests/system/run)" [ -x $ATTACK ]
    pid=$(mainpid) restarts=$(prop NRestarts) status=$(prop StatusText) c=$(cursor)
    idle=$(cpu_ticks_over 10 "$pid")
    echo "INFO: the daemon's CPU over 10 s before the attacks: $idle ticks (status '$status')"
    runuser -u alice -- $ATTACK redirect $SOCK /dev/shm/alice-redirect > "$OUT/attention-redirect.log" 2>&1
    echo "INFO: redirect: $(head -1 "$OUT/attention-redirect.log")"
    check "alice's answers-to-systemd attack ran (8 datagrams)" grep -q '^datagram 8 ' "$OUT/attention-redirect.log"
    sleep 3
    check_eq "after it the unit's status text is unchanged" "$status" "$(prop StatusText)"
    check_eq "NRestarts is unchanged" "$restarts" "$(prop NRestarts)"
    check_eq "the daemon is the same (PID)" "$pid" "$(mainpid)"
    check "systemd logged no watchdog request or timeout" no_watchdog_since "$c"
    runuser -u alice -- $ATTACK loop $SOCK /dev/shm/alice-loop > "$OUT/attention-loop.log" 2>&1
    echo "INFO: loop: $(head -1 "$OUT/attention-loop.log")"
    check "alice's answers-to-itself attack ran" grep -q '^datagram 1 ' "$OUT/attention-loop.log"
    busy=$(cpu_ticks_over 10 "$(mainpid)")
    echo "INFO: the daemon's CPU over 10 s after the answers-to-itself attack: $busy ticks"
    check "after it the daemon's CPU over 10 s stays near idle ($busy ticks, at most 100)" [ "$busy" -le 100 ]
    answer=$(runuser -u alice -- $ATTACK ask $SOCK 2>&1)
    printf "INFO: alice's STATUS=/WATCHDOG= text over a connection: %s\n" "$answer"
    check "the daemon answers her on one line" sh -c "[ \"\$(printf '%s\n' \"\$1\" | wc -l)\" = 1 ] && printf '%s\n' \"\$1\" | grep -q '^answer: error: '" - "$answer"
    check "with her newlines escaped" sh -c "printf '%s\n' \"\$1\" | grep -qF 'x\nSTATUS=owned-by-alice\nWATCH'" - "$answer"
    c=$(cursor)
    answer=$(runuser -u alice -- $ATTACK ask $SOCK log 2>&1)
    check_eq "a message with a newline and <2> in it is taken" "answer: ok" "$answer"
    check "it is logged as one journal line" journal_shows "$c" 'message (info): first line.*<2>forged by alice'
    check "and forges no entry of its own" sh -c "! journalctl -q -o cat -u $UNIT -p crit | grep -q 'forged by alice'"
    c=$(cursor)
    rackpi-panel notify --level info "root after the attacks" > "$OUT/attention-root.log" 2>&1
    rc=$?
    check "root can still notify after the attacks (exit $rc: $(head -c 200 "$OUT/attention-root.log"))" [ $rc = 0 ]
    check "and the daemon logged it" journal_shows "$c" 'message (info): root after the attacks'
    check_eq "the status text is still unchanged" "$status" "$(prop StatusText)"
    check_eq "NRestarts is still unchanged" "$restarts" "$(prop NRestarts)"

    # identify from a root shell: 5 Hz
    c=$(cursor)
    rackpi-panel identify --for 5s
    rc=$?
    trace=$(led_trace 2)
    echo "$trace" | tr '\n' ' ' > "$OUT/attention-led-identify.txt"
    hz=$(blink_hz "$trace")
    check "identify --for 5s as root succeeds (exit $rc)" [ $rc = 0 ]
    check "identify: the LED blinks at 5 Hz ($hz Hz over 2 s)" awk -v f="$hz" 'BEGIN { exit !(f >= 4.5 && f <= 5.5) }'
    check "identify ends by itself (logged)" wait_until 15 journal_has "$c" 'identify ended'
    trace=$(led_trace 3)
    seen=$(steady_on_within "$trace" 0)
    check "then the LED is steadily on (identify over, alice's message expired: $seen)" quiet steady_on_within "$trace" 0

    # the system bus restarts: the daemon carries on and follows again
    pid=$(mainpid) c=$(cursor)
    systemctl restart dbus.service
    check "systemctl restart dbus: the daemon says it lost the bus" journal_shows "$c" 'system bus: the connection was closed'
    check "and that it is connected again" wait_until 90 journal_has "$c" 'connected to the system bus again'
    check_eq "the daemon kept running (same PID)" "$pid" "$(mainpid)"
    check "and is active" running
    n=$(journal_since "$c" | grep -c 'connection was closed')
    check_eq "the loss was logged once" 1 "$n"
    sleep 3
    c=$(cursor)
    systemd-run -q --unit=y false
    trace=$(led_trace 7)
    seen=$(attention_in "$trace" 200)
    check "after the bus restart, a failing unit still shows attention within 2 s ($seen)" quiet attention_in "$trace" 200
    check "and is logged" journal_shows "$c" 'unit failed: y.service'
    systemctl reset-failed

    # the bus comes back slowly: the daemon's try waits on it off the loop;
    # a press is answered at once and the watchdog (10 s) is fed meanwhile
    check "the display goes off after its timeout" wait_until 40 display_off
    pid=$(mainpid) c=$(cursor)
    slow_bus 30
    check "a slow bus restart: the daemon says it lost the bus" journal_shows "$c" 'system bus: the connection was closed'
    sleep 3
    seen=$(screen_on_by_tap 200)
    mark slow_bus_press
    check "a press while the bus does not answer switches the display on within 2 s ($seen)" \
        [ "${seen% cs}" != "$seen" ]
    echo "INFO: press to display on, the system bus not answering: $seen"
    check "the daemon says the bus does not answer" journal_shows "$c" 'does not answer'
    check "and is connected again once it answers" wait_until 120 journal_has "$c" 'connected to the system bus again'
    check_eq "the daemon kept running through the stall (same PID)" "$pid" "$(mainpid)"
    check_eq "no watchdog kill, no restart (NRestarts)" 0 "$(prop NRestarts)"
    check "systemd logged no watchdog timeout" sh -c "! journalctl -b -q -o cat -u $UNIT | grep -q 'Watchdog timeout'"
    bus_fast_again
    sleep 3
    c=$(cursor)
    systemd-run -q --unit=z false
    check "and a unit failing after it is logged" journal_shows "$c" 'unit failed: z.service'
    systemctl reset-failed
    echo "INFO: memory after all of it (units, messages, identify, bus restarts): $(memory)"
    # the same daemon without the bus, for what following units costs
    set_key attention 'units = false'
    systemctl restart $UNIT
    wait_until 30 running
    sleep 20
    echo "INFO: memory, units = false, nothing failed: $(memory)"
    no_denials
    i2c_log_save "$OUT/attention-i2c.log"
    journalctl -b -q --no-pager > "$OUT/attention-journal.log"
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

# ---------------------------------------------------------------- mqtt
# the broker's account for the panel (the password is looked for in the
# journal: it must never be there)
MQTT_USER=rackpi-panel MQTT_PW=rack-secret-7f3a9c MQTT_NODE=rackpi/rack-1
# mqtt_take TOPIC: the first message on TOPIC within 10 s as "RETAIN PAYLOAD"
# (RETAIN 1: from the broker's retained store)
mqtt_take() {
    mosquitto_sub -h 127.0.0.1 -p 1883 -u $MQTT_USER -P $MQTT_PW -t "$1" -C 1 -W 10 -F '%r %p' 2>&1
}
mqtt_send() { mosquitto_pub -h 127.0.0.1 -p 1883 -u $MQTT_USER -P $MQTT_PW -t "$1" -m "$2"; }
# the password as the README says: a root-only file, loaded as a credential
mqtt_credential() {
    printf '%s\n' "$1" > /etc/rackpi-panel/mqtt-password
    chown root:root /etc/rackpi-panel/mqtt-password
    chmod 0600 /etc/rackpi-panel/mqtt-password
}
# mqtt_logged CURSOR TEXT...: the unit logged each TEXT after CURSOR
mqtt_logged() {
    _c=$1; shift
    for _text; do journal_shows "$_c" "$_text" || return 1; done
}
scenario_mqtt() {
    line_pull "$KS_LED_LINE" down
    # Mosquitto on 127.0.0.1:1883, a password file, no anonymous clients
    mosquitto_passwd -c -b /etc/mosquitto/passwd $MQTT_USER $MQTT_PW
    chown mosquitto:mosquitto /etc/mosquitto/passwd
    chmod 0600 /etc/mosquitto/passwd
    printf 'listener 1883 127.0.0.1\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\nlog_dest stderr\n' \
        > /etc/mosquitto/conf.d/rackpi-test.conf
    systemctl restart mosquitto.service
    check "Mosquitto runs on 127.0.0.1:1883" wait_until 30 sh -c \
        "mosquitto_pub -h 127.0.0.1 -u $MQTT_USER -P $MQTT_PW -t test/up -m 1"
    check "and refuses anonymous clients" sh -c '! mosquitto_pub -h 127.0.0.1 -t test/up -m 1'

    install_old
    set_key mqtt 'allow_power = false'
    set_key mqtt 'node = "rack-1"'
    set_key mqtt 'keepalive_s = 5'
    set_key mqtt "username = \"$MQTT_USER\""
    # (not set_key: its sed takes no "/" in the value)
    sed -i 's|^\[mqtt\]$|[mqtt]\nurl = "mqtt://127.0.0.1:1883"|' $CONF
    check "the config has the broker's url" grep -q '^url = "mqtt://127.0.0.1:1883"$' $CONF
    cp $CONF "$OUT/mqtt-config.toml"
    mqtt_credential $MQTT_PW
    mkdir -p /etc/systemd/system/$UNIT.d
    printf '[Service]\nLoadCredential=mqtt-password:/etc/rackpi-panel/mqtt-password\n' \
        > /etc/systemd/system/$UNIT.d/mqtt-password.conf
    systemctl daemon-reload
    c=$(cursor)
    systemctl restart $UNIT
    check "restarted with [mqtt] and the credential: running" wait_until 60 running
    check "the daemon says it connected to the broker" \
        wait_until 30 journal_has "$c" 'mqtt: connected to 127.0.0.1:1883'
    check "Mosquitto saw the login as $MQTT_USER with keepalive_s = 5" \
        sh -c "journalctl -q -o cat -u mosquitto | grep -q \"k5, u'$MQTT_USER'\""
    got=$(mqtt_take $MQTT_NODE/availability)
    check_eq "$MQTT_NODE/availability is retained online" "1 online" "$got"
    got=$(mqtt_take $MQTT_NODE/state)
    echo "INFO: state: $got"
    check "$MQTT_NODE/state is the retained JSON of this machine" \
        sh -c "printf '%s\n' \"\$1\" | grep -q '^1 {\"host\":\"rackpi\",.*\"version\":\"0.1.0\"}\$'" - "$got"
    check "the password is nowhere in the journal" sh -c "! journalctl -b -q -o cat | grep -qF '$MQTT_PW'"
    blocked=$(journalctl -b -q -o cat -u $UNIT |
        grep -E 'Operation not permitted|Address family not supported|Permission denied|os error (1|13|97)\)' || true)
    [ -z "$blocked" ] || echo "$blocked" | head -5
    check "the sandbox let the connection through (no EPERM/EAFNOSUPPORT in the journal)" [ -z "$blocked" ]

    # identify from the broker: 5 Hz
    c=$(cursor)
    mqtt_send $MQTT_NODE/cmd/identify 5
    trace=$(led_trace 3)
    echo "$trace" | tr '\n' ' ' > "$OUT/mqtt-led-identify.txt"
    hz=$(blink_hz "$trace")
    check "cmd/identify 5: the LED blinks at 5 Hz ($hz Hz)" awk -v f="$hz" 'BEGIN { exit !(f >= 4.5 && f <= 5.5) }'
    check "the daemon logged the command from MQTT and the identify" \
        mqtt_logged "$c" 'command from MQTT: identify' 'identify for 5 s'
    check "identify ends by itself (logged)" wait_until 15 journal_has "$c" 'identify ended'

    # power from the broker without allow_power: refused, the machine stays up
    c=$(cursor) pid=$(mainpid)
    mqtt_send $MQTT_NODE/cmd/power reboot
    check "cmd/power reboot without allow_power is refused in the journal" \
        journal_shows "$c" 'power: `reboot` refused: power from MQTT is off'
    sleep 5
    check "the machine stays up (no shutdown job, the system running)" \
        sh -c '! systemctl list-jobs --no-legend | grep -qE "reboot|shutdown|poweroff" &&
            [ "$(systemctl is-system-running)" != stopping ]'
    check_eq "and the daemon is the same (PID)" "$pid" "$(mainpid)"

    # the sandbox with the credential drop-in
    security=$(systemd-analyze security $UNIT 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "INFO: systemd-analyze security $UNIT (with [mqtt] and the credential): $security"
    check "systemd-analyze security: $security <= 1.5" awk -v s="${security:-99}" 'BEGIN { exit !(s <= 1.5) }'

    # a clean stop: the daemon says goodbye, the broker keeps "offline"
    systemctl stop $UNIT
    check "systemctl stop: stopped" state_is inactive
    got=$(mqtt_take $MQTT_NODE/availability)
    check_eq "after the stop $MQTT_NODE/availability is retained offline" "1 offline" "$got"

    # a wrong password: the unit keeps running, the panel works, one line
    mqtt_credential wrong-password
    refused_before=$(journalctl -q -o cat -u mosquitto | grep -c "not authorised")
    c=$(cursor)
    systemctl start $UNIT
    check "with a wrong password the unit starts" wait_until 60 running
    check "the journal names the refused login" \
        wait_until 30 journal_has "$c" 'refused the login: bad username or password'
    pid=$(mainpid) restarts=$(prop NRestarts)
    check "the display goes off after its timeout" wait_until 40 display_off
    seen=$(screen_on_by_tap 200)
    check "the button still switches the screen on within 2 s ($seen)" [ "${seen% cs}" != "$seen" ]
    check_eq "the daemon kept running (same PID)" "$pid" "$(mainpid)"
    check_eq "no restart (NRestarts)" "$restarts" "$(prop NRestarts)"
    tries=$(($(journalctl -q -o cat -u mosquitto | grep -c "not authorised") - refused_before))
    n=$(journal_since "$c" | grep -c 'refused the login')
    check_eq "the refused login was logged once over its $tries tries" 1 "$n"
    check "the daemon did try again (Mosquitto refused $tries logins)" [ "$tries" -ge 2 ]
    check "the wrong password is not in the journal either" \
        sh -c "! journalctl -b -q -o cat | grep -qF wrong-password"
    no_denials
    journalctl -b -q --no-pager > "$OUT/mqtt-journal.log"
}

# ------------------------------------------------------- reboot / poweroff
scenario_press() { # SECONDS [SLOW_BUS_SECS]
    install_old
    if [ -n "${2:-}" ]; then
        # the system bus restarts slowly; the hold starts 3 s into its
        # silence and ends within it (the reboot itself, through logind,
        # goes ahead once the bus is back)
        slow_bus "$2"
        echo "INFO: the system bus does not answer for $2 s from uptime $(now)"
        sleep 3
    fi
    hold "$1"
    echo "INFO: press released after $1 s at uptime $(now)"
    sleep 150
    echo "FAIL: the machine is still up 150 s after the press"
    journalctl -b -q --no-pager -u $UNIT | tail -20
}

rm -f "$OUT/$scenario-marks"
case $scenario in
    rpi)      scenario_rpi ;;
    attention) scenario_attention ;;
    plain)    scenario_plain ;;
    mqtt)     scenario_mqtt ;;
    reboot)   scenario_press 9.5 20 ;;
    poweroff) scenario_press 13.5 ;;
    *)        echo "FAIL: unknown scenario '$scenario'" ;;
esac
echo "INFO: scenario done at uptime $(now) s"
ks_summary
systemctl poweroff --force --force
