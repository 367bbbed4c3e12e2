#!/usr/bin/env bash
# Builds the host fixture trees of tests/data/env/<case>/ (committed; run
# again after changing this script). Each tree has the shape of a Debian or
# Ubuntu machine's /proc, /sys, /run/udev, /run/lock, /etc and udev rules,
# only as deep as `shakedown doctor` reads:
#   proc/PID/{comm,cmdline,status,fd/N -> /dev/...}, proc/self/status
#   sys/class/tty/NAME -> ../../devices/.../tty/NAME  (dev = "MAJ:MIN")
#   sys/devices/.../USBDEV/{idVendor,idProduct,busnum,devnum}
#   sys/devices/.../USBDEV:1.0/{bInterfaceNumber,driver -> .../drivers/X}
#   sys/bus/usb/devices/NAME -> ../../../devices/...
#   run/udev/data/cMAJ:MIN ("E:KEY=VALUE" lines), run/lock/LCK..NAME
#   etc/group, etc/passwd, usr/lib/udev/rules.d/85-brltty.rules
# Device nodes are not here: git cannot hold them. The unit tests make
# them in a temporary copy (mknod as root).
set -eu
cd "$(dirname "$0")"

pci=sys/devices/pci0000:00/0000:00:14.0

base() { # base CASE: the parts every tree shares
  rm -rf "$1"; mkdir -p "$1"; cd "$1"
  mkdir -p etc proc/self run/lock run/udev/data dev sys/class/tty sys/bus/usb/devices \
           sys/bus/usb/drivers sys/bus/usb-serial/drivers
  cat >etc/group <<'G'
root:x:0:
tty:x:5:
uucp:x:10:
dialout:x:20:
plugdev:x:46:ada
ada:x:1000:
G
  cat >etc/passwd <<'P'
root:x:0:0:root:/root:/bin/bash
ada:x:1000:1000:Ada:/home/ada:/bin/bash
P
  printf 'Name:\tshakedown\nUmask:\t0022\nState:\tR (running)\nPid:\t5000\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t20 46 1000 \n' >proc/self/status
  proc 1 systemd /sbin/init splash
  proc 655 udevd /lib/systemd/systemd-udevd
  # the "tty" class itself: the console exists on every machine
  mkdir -p sys/devices/virtual/tty/console
  echo 5:1 >sys/devices/virtual/tty/console/dev
  ln -sr sys/devices/virtual/tty/console sys/class/tty/console
}
proc() { # proc PID COMM ARGV...   (uid 1000 unless UIDP is set)
  local pid=$1 comm=$2; shift 2
  mkdir -p "proc/$pid/fd"
  echo "$comm" >"proc/$pid/comm"
  printf '%s\0' "$@" >"proc/$pid/cmdline"
  local u=${UIDP:-1000}
  printf 'Name:\t%s\nPid:\t%s\nUid:\t%s\t%s\t%s\t%s\nGid:\t%s\t%s\t%s\t%s\n' "$comm" "$pid" $u $u $u $u $u $u $u $u >"proc/$pid/status"
  ln -s /dev/null "proc/$pid/fd/0"
  ln -s "socket:[1234$pid]" "proc/$pid/fd/1"
}
holds() { ln -s "$3" "proc/$1/fd/$2"; } # holds PID FD /dev/PATH
usbdev() { # usbdev NAME VID PID BUS DEV: a USB device, no interfaces yet
  local d=$pci/usb$4/$1
  mkdir -p "$d"
  echo "$2" >"$d/idVendor"; echo "$3" >"$d/idProduct"
  echo "$4" >"$d/busnum"; echo "$5" >"$d/devnum"
  ln -sr "$d" "sys/bus/usb/devices/$1"
  mkdir -p "dev/bus/usb/$(printf %03d "$4")"
}
usbif() { # usbif DEV IFNUM CLASS DRIVER|-   : an interface, bound or not
  local d=$pci/usb${USBBUS:-1}/$1/$1:1.$2
  mkdir -p "$d"
  printf '%02x\n' "$2" >"$d/bInterfaceNumber"; echo "$3" >"$d/bInterfaceClass"
  ln -sr "$d" "sys/bus/usb/devices/$1:1.$2"
  if [ "$4" != - ]; then mkdir -p "sys/bus/usb/drivers/$4"; ln -sr "sys/bus/usb/drivers/$4" "$d/driver"; fi
}
usbserial() { # usbserial DEV IFNUM TTY MINOR PORTDRIVER: a usb-serial port (ch341, ftdi_sio ...)
  local i=$pci/usb${USBBUS:-1}/$1/$1:1.$2
  mkdir -p "$i/$3/tty/$3" "sys/bus/usb-serial/drivers/$5"
  ln -sr "sys/bus/usb-serial/drivers/$5" "$i/$3/driver"
  echo "188:$4" >"$i/$3/tty/$3/dev"
  ln -sr "$i/$3" "$i/$3/tty/$3/device"
  ln -sr "$i/$3/tty/$3" "sys/class/tty/$3"
}
acm() { # acm DEV IFNUM TTY MINOR: a cdc_acm port (the interface is the tty's device)
  local i=$pci/usb${USBBUS:-1}/$1/$1:1.$2
  mkdir -p "$i/tty/$3"
  echo "166:$4" >"$i/tty/$3/dev"
  ln -sr "$i" "$i/tty/$3/device"
  ln -sr "$i/tty/$3" "sys/class/tty/$3"
}
brltty_rules() {
  mkdir -p usr/lib/udev/rules.d
  cat >usr/lib/udev/rules.d/85-brltty.rules <<'R'
# Device: 1A86:7523
# Baum [NLS eReader Zoomax (20 cells)]
ENV{PRODUCT}=="1a86/7523/*", ENV{BRLTTY_BRAILLE_DRIVER}="bm", GOTO="brltty_usb_run"
# Device: 0403:FE72
ENV{PRODUCT}=="403/fe72/*", ENV{BRLTTY_BRAILLE_DRIVER}="ht", GOTO="brltty_usb_run"
GOTO="brltty_usb_end"
LABEL="brltty_usb_run"
RUN+="/usr/lib/brltty/udev-wrapper"
LABEL="brltty_usb_end"
R
}

# screen: a CH340 on ttyUSB0, GNU screen holds it
( base screen
  usbdev 1-2 1a86 7523 1 5; usbif 1-2 0 ff ch341; usbserial 1-2 0 ttyUSB0 0 ch341-uart
  proc 4242 screen screen /dev/ttyUSB0 115200; holds 4242 3 /dev/ttyUSB0
  proc 4300 bash -bash )

# ftdi: an FTDI FT232 on ttyUSB0, ftdi_sio bound, nothing in the way
( base ftdi
  usbdev 1-3 0403 6001 1 7; usbif 1-3 0 ff ftdi_sio; usbserial 1-3 0 ttyUSB0 0 ftdi_sio
  proc 4300 bash -bash )

# mm: an Arduino Leonardo (2341:8036) on ttyACM0, ModemManager running, no ignore
( base mm
  usbdev 1-1 2341 8036 1 4; usbif 1-1 0 02 cdc_acm; usbif 1-1 1 0a cdc_acm; acm 1-1 0 ttyACM0 0
  printf 'I:1234567\nE:ID_MM_CANDIDATE=1\nE:ID_VENDOR_ID=2341\nE:ID_MODEL_ID=8036\nG:systemd\n' >run/udev/data/c166:0
  UIDP=0 proc 812 ModemManager /usr/sbin/ModemManager )

# mm-ignored: the same, told to keep away (a rule set ID_MM_DEVICE_IGNORE=1)
( base mm-ignored
  usbdev 1-1 2341 8036 1 4; usbif 1-1 0 02 cdc_acm; usbif 1-1 1 0a cdc_acm; acm 1-1 0 ttyACM0 0
  printf 'I:1234567\nE:ID_MM_CANDIDATE=1\nE:ID_MM_DEVICE_IGNORE=1\nG:systemd\n' >run/udev/data/c166:0
  UIDP=0 proc 812 ModemManager /usr/sbin/ModemManager )

# brltty: a CH340 plugged in, brltty claimed its interface through usbfs,
# so ttyUSB0 came and went (Ubuntu 22.04)
( base brltty
  usbdev 1-2 1a86 7523 1 5; usbif 1-2 0 ff usbfs
  brltty_rules
  UIDP=0 proc 901 brltty /sbin/brltty -B -b bm -d usb:
  UIDP=0 holds 901 5 /dev/bus/usb/001/005 )

# nodriver: a CH340 with no driver bound (ch341 module missing), and a
# MediaTek phone in BROM mode (0e8d:0003) with no driver either
( base nodriver
  usbdev 1-2 1a86 7523 1 5; usbif 1-2 0 ff -
  usbdev 1-4 0e8d 0003 1 9; usbif 1-4 0 02 -; usbif 1-4 1 0a - )

# lock-stale: ttyUSB0 (FTDI) with a lock file whose PID is gone
( base lock-stale
  usbdev 1-3 0403 6001 1 7; usbif 1-3 0 ff ftdi_sio; usbserial 1-3 0 ttyUSB0 0 ftdi_sio
  printf '      9999\n' >run/lock/LCK..ttyUSB0 )

# lock-live: ttyUSB0 locked by a running minicom (PID 4242)
( base lock-live
  usbdev 1-3 0403 6001 1 7; usbif 1-3 0 ff ftdi_sio; usbserial 1-3 0 ttyUSB0 0 ftdi_sio
  proc 4242 minicom minicom -D /dev/ttyUSB0
  printf '      4242\n' >run/lock/LCK..ttyUSB0 )
