# rackpi-panel against the kernel's own GPIO character device (gpio-sim) and
# i2c-dev (i2c-recorder), in the kernel-sim guest. busybox sh. Run by
# tests/kernel/run, which builds the static binary and decodes the saved I2C
# logs on the host afterwards. Each scenario starts a fresh daemon, because a
# started reboot/shutdown keeps its screen until the machine goes down.
. /opt/kernel-sim/lib.sh
set -u
cd /mnt/host
mkdir -p out
: > out/power.log
BIN=./rackpi-panel
CONFIG=guest.toml

start_daemon() { # NAME: start in the background, wait until it is running
    $BIN -v run --config $CONFIG > "out/$1.log" 2>&1 &
    DAEMON=$!
    wait_for "out/$1.log" 'started' 60
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

ks_summary
