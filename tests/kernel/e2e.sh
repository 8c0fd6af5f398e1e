# rackpi-panel against the kernel's own GPIO character device (gpio-sim) and
# i2c-dev (i2c-recorder), in the kernel-sim guest. busybox sh. Run by
# tests/kernel/run, which builds the release binary and decodes the saved I2C
# logs on the host afterwards. Each scenario starts a fresh daemon, because a
# started reboot/shutdown keeps its screen and ignores the button until the
# machine goes down (or power.settle_s, 120 s, has passed).
. /opt/kernel-sim/lib.sh
set -u
cd /mnt/host
mkdir -p out
: > out/power.log
BIN=./rackpi-panel
# the libraries the binary links, copied from the host by tests/kernel/run
export LD_LIBRARY_PATH=/mnt/host/lib
CONFIG=guest.toml

start_daemon() { # NAME [RUN ARGS]: start in the background (default: --config $CONFIG), wait until it is running
    _name=$1; shift
    [ $# -gt 0 ] || set -- --config $CONFIG
    $BIN -v run "$@" > "out/$_name.log" 2>&1 &
    DAEMON=$!
    wait_for "out/$_name.log" 'started' 60
}

stop_daemon() { # expect exit 0 on SIGTERM
    kill -TERM "$DAEMON"
    wait_exit "$DAEMON" 10
}

power_calls() { grep -c "^$1\$" out/power.log; }
wait_calls() { # NAME COUNT [SECS]: wait until the power command NAME ran COUNT times
    _end=$(awk -v s="${3:-10}" '{ print $1 + s }' /proc/uptime)
    until [ "$(power_calls "$1")" -ge "$2" ]; do
        awk -v e="$_end" '{ exit !($1 >= e) }' /proc/uptime && return 1
        usleep 50000
    done
}
transfers_since_clear() { i2c_transfers; }

# ---------------------------------------------------------------- scenario 1
echo "== 1: start, LED, page, timeout, reboot"
line_pull "$KS_LED_LINE" down        # so a 1 on the LED can only come from the daemon
button_release
i2c_log_clear
start_daemon d1
check "the daemon starts" kill -0 "$DAEMON"
check "LED line 23 goes on at start" wait_line "$KS_LED_LINE" 1 10
info=$(line_info "$KS_BUTTON_LINE")
echo "   $info"
check "the button line is held by rackpi-button" sh -c "echo '$info' | grep -q 'consumer=rackpi-button'"
check "the button line is active-low with both edges" sh -c "echo '$info' | grep -q 'active-low' && echo '$info' | grep -q 'edge-rising' && echo '$info' | grep -q 'edge-falling'"
check "the kernel debounces the button (30 ms)" sh -c "echo '$info' | grep -q 'debounce_us=30000'"
led=$(line_info "$KS_LED_LINE")
check "the LED line is an output of rackpi-led" sh -c "echo '$led' | grep -q 'consumer=rackpi-led' && echo '$led' | grep -q 'output'"
check "the first frame is on the bus" wait_for /sys/kernel/debug/i2c-recorder/log '^W 3c 00 af' 20
sleep 1
i2c_log_save out/start.log

$BIN check --config $CONFIG > out/check-ok.txt 2>&1
check_eq "check: exit 0 while everything answers" 0 "$?"
check "check: reports the display at 0x3c" grep -q 'SSD1306 answers at 0x3c' out/check-ok.txt

button_press
check "LED off while the button is down" wait_line "$KS_LED_LINE" 0 5
sleep 0.3
button_release
check "LED back on after the release" wait_line "$KS_LED_LINE" 1 5
check "a short press turns the page" wait_for out/d1.log 'page system' 10
sleep 1
i2c_log_save out/page2.log
i2c_log_clear                         # the start-up sequence has a display-off too

check "the display is switched off after the timeout" wait_for /sys/kernel/debug/i2c-recorder/log '^W 3c 00 ae$' 25
sleep 0.5
i2c_log_save out/off.log
before=$(i2c_transfers)
sleep 3
check_eq "no I2C traffic at all while the screen is off" "$before" "$(i2c_transfers)"

button_press
sleep 8.2
seen=""
end=$(awk '{ print $1 + 0.9 }' /proc/uptime)
while awk -v e="$end" '{ exit !($1 < e) }' /proc/uptime; do
    seen="$seen$(led_value)"
    usleep 30000
done
button_release
echo "   LED samples in the reboot stage: $seen"
check "the LED blinks in the reboot stage" sh -c "echo '$seen' | grep -q 1 && echo '$seen' | grep -q 0"
check "a 9 s press runs the reboot command" wait_for out/power.log '^reboot$' 10
sleep 2
check_eq "the reboot command ran exactly once" 1 "$(power_calls reboot)"
i2c_log_save out/rebooting.log
stop_daemon
check_eq "SIGTERM after a reboot: exit 0" 0 "$?"
i2c_log_save out/after-reboot-sigterm.log

# ---------------------------------------------------------------- scenario 2
echo "== 2: shutdown, cancel"
start_daemon d2
button_press
sleep 13
button_release
check "a 13 s press runs the shutdown command" wait_for out/power.log '^shutdown$' 10
sleep 1
check_eq "the shutdown command ran exactly once" 1 "$(power_calls shutdown)"
check_eq "and no reboot on the way" 1 "$(power_calls reboot)"
stop_daemon

start_daemon d3
sleep 1
button_press
sleep 25
button_release
sleep 2
check_eq "a 25 s press runs nothing" 2 "$(wc -l < out/power.log)"
check "the 25 s press was cancelled" grep -q 'cancelled' out/d3.log

# ---------------------------------------------------------------- scenario 3
echo "== 3: bounce, second instance, SIGTERM"
# a bouncing press: edges a few milliseconds apart, then held 9 s; a bouncing release
button_press; usleep 3000; button_release; usleep 3000; button_press; usleep 3000
button_release; usleep 3000; button_press
sleep 9
button_release; usleep 3000; button_press; usleep 3000; button_release
check "a bouncing 9 s press reboots" wait_calls reboot 2 10
sleep 2
check_eq "bounce gives exactly one action" 2 "$(power_calls reboot)"
stop_daemon

start_daemon d4
cp $CONFIG guest.toml.orig
printf '[button]\nreboot_after_s = 50.0\n' >> $CONFIG       # inconsistent thresholds
kill -HUP "$DAEMON"
check "SIGHUP with a bad config: refused with the key named" wait_for out/d4.log 'not reloaded.*reboot_after_s' 10
check "and the daemon runs on" kill -0 "$DAEMON"
mv $CONFIG guest.toml.gone                                 # the file disappears
kill -HUP "$DAEMON"
check "SIGHUP with the config file gone: refused, naming the file" wait_for out/d4.log 'not reloaded.*cannot read config file guest.toml' 10
rm -f guest.toml.gone
cp guest.toml.orig $CONFIG
printf '[button]\nreboot_after_s = 2.0\nshutdown_after_s = 4.0\n' >> $CONFIG
kill -HUP "$DAEMON"
check "SIGHUP with a good config: reloaded" wait_for out/d4.log 'configuration reloaded' 10
button_press
sleep 3
button_release
check "the reloaded threshold applies: a 3 s press reboots" wait_calls reboot 3 10
sleep 1
check_eq "three reboots so far" 3 "$(power_calls reboot)"
cp guest.toml.orig $CONFIG
stop_daemon

# the LED on the button's line under another spelling (chip + offset)
{ cat $CONFIG; printf '[led]\nchip = "/dev/gpiochip0"\noffset = 20\n'; } > same-line.toml
$BIN run --config same-line.toml > out/same-line.log 2>&1
status=$?
cat out/same-line.log
check_eq "the LED on the button's line by chip and offset: refused as a config error" 78 "$status"
check "its message names the key" grep -q 'led.offset.*button' out/same-line.log

start_daemon d4b
$BIN run --config $CONFIG > out/second.log 2>&1
status=$?
cat out/second.log
check "a second instance fails" test "$status" != 0
check "its message names the line and the holder" sh -c "grep -q GPIO20 out/second.log && grep -q rackpi-button out/second.log"
check "the first instance still runs" kill -0 "$DAEMON"

i2c_log_clear
stop_daemon
check_eq "SIGTERM: exit 0" 0 "$?"
i2c_log_save out/sigterm.log
check "SIGTERM switches the display off" grep -q '^W 3c 00 ae$' out/sigterm.log

# ---------------------------------------------------------------- scenario 4
echo "== 4: held at start, display unplugged and back"
button_press
start_daemon d5
sleep 10
button_release
sleep 2
check_eq "a button held at start runs nothing" 4 "$(wc -l < out/power.log)"
check "the held button was ignored" grep -q 'held at start' out/d5.log

display_unplug
button_press                          # the press draws the stage screen: NACK
sleep 9
button_release
check "with the display unplugged a long press still reboots" wait_calls reboot 4 10
sleep 1
check_eq "exactly one more reboot" 4 "$(power_calls reboot)"
check "the daemon keeps running without a display" kill -0 "$DAEMON"
check "the loss is logged" grep -q 'display lost' out/d5.log
$BIN check --config $CONFIG > out/check-missing.txt 2>&1
check "check: non-zero exit with the display missing" test "$?" != 0
check "check: says nothing answers at 0x3c" grep -q 'nothing answers at 0x3c' out/check-missing.txt
sleep 5
i2c_log_clear
display_plug
check "display_plug: the screen comes back within 31 s" wait_for out/d5.log 'display answers again' 35
check_eq "the loss was logged once, not once per retry" 1 "$(grep -c 'display lost' out/d5.log)"
sleep 1
i2c_log_save out/restored.log
stop_daemon

# ---------------------------------------------------------------- scenario 5
echo "== 5: stalls: the daemon stopped (SIGSTOP) while the button moves, then resumed"
# As a slow SD card, a blocked I2C transfer or a blocking reload would stall
# it. The kernel queues the edges with their own timestamps meanwhile; none
# of these may run a power command, and a real hold afterwards acts once.
mark() { T0=$(now); }
at() { # SECS: wait until SECS after the last mark
    _end=$(awk -v t="$T0" -v s="$1" 'BEGIN { printf "%d", (t + s) * 100 }')
    while read -r _up _ < /proc/uptime && [ "${_up%.*}${_up#*.}" -lt "$_end" ]; do usleep 10000; done
}
stall() { kill -STOP "$DAEMON"; }
resume() { kill -CONT "$DAEMON"; }
calls() { wc -l < out/power.log; }
presses() { grep -c ' press$' "out/$STALL_LOG.log"; }
wait_presses() { # COUNT [SECS]: wait until the daemon has logged COUNT presses; 1 if fewer or more
    _end=$(awk -v s="${2:-5}" '{ print $1 + s }' /proc/uptime)
    until [ "$(presses)" -ge "$1" ]; do
        awk -v e="$_end" '{ exit !($1 >= e) }' /proc/uptime && return 1
        usleep 50000
    done
    [ "$(presses)" -eq "$1" ]
}
led_after_resume() { # DESC: the LED is lit again once the daemon has caught up (it saw the button released)
    # (a daemon that missed a release keeps it dark, as for a hold, until the
    # reboot stage 8 s after the press it saw)
    sleep 1
    check "$1" wait_line "$KS_LED_LINE" 1 4
}
no_action() { # DESC: no power command since the scenario began ($CALLS)
    sleep 2
    check_eq "$1" "$CALLS" "$(calls)"
    if [ "$(calls)" != "$CALLS" ]; then
        # it is busy with that action now: the next scenario gets a fresh daemon
        stop_daemon
        STALL_LOG=stalls-after-$(calls)
        start_daemon "$STALL_LOG"
        CALLS=$(calls)
    fi
}

STALL_LOG=stalls
start_daemon "$STALL_LOG"
CALLS=$(calls)

# 1: a tap while stalled, an ordinary tap 9 s later
mark
stall
at 0.2; button_press
at 0.5; button_release
at 1.5; resume
led_after_resume "stall 1: a 0.3 s tap during a 1.5 s stall: afterwards the LED is lit (the release was seen)"
at 9.2; button_press
at 9.5; button_release
no_action "stall 1: ... and an ordinary tap 9 s later runs no power command"

# 2: many taps while stalled, then an ordinary tap
pressed_before=$(presses)
mark
stall
at 0.2
i=0
while [ $i -lt 12 ]; do button_press; usleep 100000; button_release; usleep 100000; i=$((i + 1)); done
resume
mark
led_after_resume "stall 2: 12 taps during one stall: afterwards the LED is lit"
check "stall 2: every one of the 12 taps is counted" wait_presses $((pressed_before + 12))
at 9; button_press
at 9.3; button_release
no_action "stall 2: ... and an ordinary tap 9 s later runs no power command"

# 2b: more taps than the kernel queues: the oldest edges are lost
mark
stall
at 0.2
i=0
while [ $i -lt 40 ]; do button_press; usleep 40000; button_release; usleep 40000; i=$((i + 1)); done
resume
mark
led_after_resume "stall 2b: 40 taps during one stall (80 edges): afterwards the LED is lit"
check "stall 2b: the lost edges are logged" grep -q 'edges were lost' "out/$STALL_LOG.log"
at 9; button_press
at 9.3; button_release
no_action "stall 2b: ... and an ordinary tap 9 s later runs no power command"

# 3: a stall during a real hold shorter than reboot_after
mark
button_press
at 2; stall
at 6; button_release
at 10; resume
no_action "stall 3: held 6 s, stalled from 2 s to 10 s of the hold: no power command"

# 4: a stall across the reboot threshold
mark
button_press
at 5; stall
at 7; button_release
at 12; resume
no_action "stall 4: held 7 s, stalled from 5 s to 12 s of the hold: no power command"

# 5: real holds still act, once
reboots=$(power_calls reboot)
mark
button_press
at 9.5; button_release
check "stall 5: after the stalls a real 9.5 s hold reboots" wait_calls reboot $((reboots + 1)) 10
sleep 1
check_eq "stall 5: exactly one reboot and nothing else" "$((CALLS + 1)) $((reboots + 1))" "$(calls) $(power_calls reboot)"
stop_daemon

start_daemon stall-release
CALLS=$(calls)
reboots=$(power_calls reboot)
mark
button_press
at 6; stall
at 9.5; button_release
at 13; resume
check "stall 5: a 9.5 s hold released during a stall (6 s to 13 s) reboots" wait_calls reboot $((reboots + 1)) 10
sleep 1
check_eq "stall 5: the kernel timed the release: exactly one reboot, no shutdown" "$((CALLS + 1)) $((reboots + 1))" "$(calls) $(power_calls reboot)"
stop_daemon

# ---------------------------------------------------------------- scenario 6
echo "== 6: --dry-run returns to normal at once"
led_samples() { # SECS FILE: "uptime level" of the LED every ~20 ms for SECS seconds
    # Builtins only: read -t on an idle FIFO waits without starting a
    # process, so even on a loaded host no 120 ms flash falls between samples.
    [ -p /tmp/tick ] || mkfifo /tmp/tick
    exec 3<>/tmp/tick
    _end=$(awk -v s="$1" '{ printf "%d", ($1 + s) * 100 }' /proc/uptime)
    while read -r _up _ < /proc/uptime && [ "${_up%.*}${_up#*.}" -lt "$_end" ]; do
        read -r _v < "$KS_GPIO_SYSFS/sim_gpio$KS_LED_LINE/value"
        echo "$_up $_v"
        read -r -t 0.01 -u 3 _
    done > "$2"
    exec 3>&-
}
steady() { ! grep -q ' 0$' "$1"; }

CALLS=$(calls)
i2c_log_clear
start_daemon dry-run --config $CONFIG --dry-run
mark
button_press
at 9.5; button_release
check "dry run: the reboot is logged" wait_for out/dry-run.log 'dry run: would reboot' 10
at 10.5
led_samples 1 out/dry-run-led.txt
check "dry run: then the LED is lit steadily" steady out/dry-run-led.txt
i2c_log_save out/dry-run-back.log
button_press
check "dry run: a short press right after is seen (LED dark while held)" wait_line "$KS_LED_LINE" 0 3
sleep 0.3
button_release
check "dry run: ... and turns the page" wait_for out/dry-run.log ' page system' 5
sleep 1
i2c_log_save out/dry-run-press.log
check_eq "dry run: no power command ran" "$CALLS" "$(calls)"
stop_daemon

# ---------------------------------------------------------------- scenario 7
echo "== 7: power.settle_s: the machine is still up after a command that succeeded"
{ cat $CONFIG; echo 'settle_s = 10'; } > settle.toml       # [power] is the last table
CALLS=$(calls)
reboots=$(power_calls reboot)
i2c_log_clear
start_daemon settle --config settle.toml
mark
button_press
at 9.5; button_release
released=$(now)
check "settle: a 9.5 s hold runs the reboot command (which returns)" wait_calls reboot $((reboots + 1)) 10
at 10
led_samples 18 out/settle-led.txt &
sampler=$!
check "settle: the panel says the reboot did not happen" wait_for out/settle.log 'reboot failed: machine still up after 10 s' 22
sleep 1
i2c_log_save out/settle-failed.log     # the failure screen stays up for 10 s
wait $sampler
# the first dark moment after the release, and the flashes from then on
read -r dark flashes short long share <<EOF2
$(awk -v rel="$released" '
    first == "" && $2 == 0 { first = $1 }
    first != "" { n++; lit += $2; if ($2 == 1 && prev == 0) rise[++r] = $1 }
    { prev = $2 }
    END {
        for (i = 2; i <= r; i++) { gap = rise[i] - rise[i - 1]; if (gap < 0.6) s++; else if (gap >= 1.2 && gap <= 2.2) l++ }
        printf "%.2f %d %d %d %d\n", first == "" ? -1 : first - rel, r, s, l, n ? 100 * lit / n : 100
    }' out/settle-led.txt)
EOF2
echo "   LED: first dark ${dark} s after the release; then $flashes flashes, $short short and $long long gaps, lit ${share}% of the time"
check "settle: the LED stays lit for settle_s, then goes dark after about 10 s" \
    awk -v d="$dark" 'BEGIN { exit !(d >= 9.5 && d <= 15) }'
check "settle: then it double-blinks (pairs of short flashes every 2 s)" \
    sh -c "[ $flashes -ge 3 ] && [ $short -ge 1 ] && [ $long -ge 1 ] && [ $share -lt 35 ]"
button_press
sleep 0.3
button_release
sleep 0.5
led_samples 2.5 out/settle-ack-led.txt
check "settle: a press is accepted again: it acknowledges the failure (LED steady)" steady out/settle-ack-led.txt
i2c_log_save out/settle-ack.log
check_eq "settle: exactly one power command" "$((CALLS + 1))" "$(calls)"
stop_daemon

# ---------------------------------------------------------------- scenario 10
echo "== 10: under-voltage and heat from files laid out as a Pi's sysfs ([system] sysfs)"
PI=/tmp/pi
THROTTLED=$PI/devices/platform/soc/soc:firmware/get_throttled
ZONE=$PI/class/thermal/thermal_zone0/temp
mkdir -p "$(dirname "$THROTTLED")" "$(dirname "$ZONE")"
echo 45000 > "$ZONE"
echo 0 > "$THROTTLED"
cat > heat.toml <<EOF2
[power]
reboot = ["/mnt/host/power.sh", "reboot"]
shutdown = ["/mnt/host/power.sh", "shutdown"]
[attention]
units = false
poll_s = 1
[system]
sysfs = "$PI"
EOF2
start_daemon heat --config heat.toml
echo 50005 > "$THROTTLED"
check "0x50005: warn attention under-voltage, source power" wait_for out/heat.log 'power (warn): under-voltage' 10
echo 50000 > "$THROTTLED"
check "0x50000 (it has occurred, it holds no more): cleared" wait_for out/heat.log 'nothing needs attention any more' 10
echo 83000 > "$ZONE"
check "83 °C: warn attention too hot, source temp" wait_for out/heat.log 'temp (warn): too hot: 83 °C' 10
echo 76000 > "$ZONE"
sleep 3
check_eq "76 °C keeps it" 1 "$(grep -c 'nothing needs attention any more' out/heat.log)"
echo 74000 > "$ZONE"
check "74 °C clears it" sh -c 'for i in $(seq 50); do [ "$(grep -c "nothing needs attention any more" out/heat.log)" -ge 2 ] && exit 0; usleep 200000; done; exit 1'
# what a dark panel costs: the loop's and the sensor thread's voluntary
# context switches (wake-ups) and the CPU ticks over 20 s, screen off
cost() { # PID: "loop sensors ticks" now
    _loop=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/task/$1/status")
    _sensors=0
    for t in /proc/$1/task/*; do
        [ "$(cat "$t/comm")" = rackpi-sensors ] && _sensors=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status")
    done
    echo "$_loop $_sensors $(awk '{ print $14 + $15 }' "/proc/$1/stat")"
}
dark_cost() { # DESC: measures 20 s; sets LOOP and SENSORS
    read -r l0 s0 c0 <<EOF2
$(cost "$DAEMON")
EOF2
    sleep 20
    read -r l1 s1 c1 <<EOF2
$(cost "$DAEMON")
EOF2
    LOOP=$((l1 - l0)) SENSORS=$((s1 - s0))
    echo "   COST $1, 20 s dark: loop woken $LOOP times, sensor thread $SENSORS times, CPU $((c1 - c0)) ticks"
}
sleep 17                                   # the screen goes dark (15 s)
dark_cost "poll_s = 1, nothing changing"
check "dark and steady: the watch does not wake the loop" sh -c "[ $LOOP -le 1 ]"
check "the sensor thread reads once a second" sh -c "[ $SENSORS -ge 15 ] && [ $SENSORS -le 25 ]"
( i=0; while [ $i -lt 25 ]; do echo $((50000 + i * 100)) > "$ZONE"; i=$((i + 1)); sleep 1; done ) &
writer=$!
dark_cost "poll_s = 1, the temperature changing every second (a real SoC)"
wait $writer
check "a changing temperature wakes the loop at most once a reading" sh -c "[ $LOOP -le 25 ]"
stop_daemon
sed -i 's/^poll_s = 1$/poll_s = 3600/' heat.toml
start_daemon heat-off --config heat.toml
sleep 17
dark_cost "poll_s = 3600 (the watch idle: as without it)"
stop_daemon

ks_summary
