#!/bin/sh
# Runs inside the namespaces that sdtest.Boot creates; PID 1 of a fresh pid+mount
# namespace. stage1 is still in the host cgroup namespace: it moves itself into
# the instance's cgroup, then makes that the root of a new cgroup namespace.
# stage2 builds a private /dev, /run and cgroup2 mount and execs systemd.
# Env: SDNS_CG (cgroup dir), SDNS_UNIT_PATH, SDNS_STATE, SDNS_SYSTEMD.
set -eu
case "$1" in
stage1)
  echo $$ > "$SDNS_CG/cgroup.procs"
  exec unshare --cgroup "$0" stage2 ;;
stage2)
  exec 3<>"$(tty)"                            # the pty from `script`, becomes /dev/console
  mount --make-rprivate /
  mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys   # no host-global sysctl writes
  mount -o remount,bind,ro /sys
  umount -R /sys/fs/cgroup                    # hide the host's cgroup layout ...
  mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup   # ... pure v2, rooted at $SDNS_CG
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
  mount -t tmpfs -o mode=755,nosuid tmpfs /dev  # private /dev (host /dev is a shared devtmpfs)
  mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
  mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
  mknod -m 666 /dev/fuse c 10 229
  mkdir -m 755 /dev/pts /dev/shm /dev/mqueue; chmod 1777 /dev/shm
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
  ln -s pts/ptmx /dev/ptmx; ln -s /proc/self/fd /dev/fd
  ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
  touch /dev/console && mount --bind /proc/self/fd/3 /dev/console
  exec 3>&-
  exec env -i container=sdtest PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SYSTEMD_UNIT_PATH="$SDNS_UNIT_PATH" \
    SYSTEMD_GENERATOR_PATH="$SDNS_STATE/empty" SYSTEMD_ENVIRONMENT_GENERATOR_PATH="$SDNS_STATE/empty" \
    "$SDNS_SYSTEMD" --unit=sdns.target --log-target=console --log-color=no --log-time=yes --show-status=no \
      --default-standard-output=tty --default-standard-error=tty ;;
*)
  echo "usage: $0 stage1|stage2" >&2; exit 2 ;;
esac
