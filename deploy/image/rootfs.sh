# Shared by build.sh and build-postgres.sh (sourced): tools, a root filesystem from Debian packages, image commits.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "$*"; exit 2; }

# Installs podman, buildah, runc and jq when missing (as root, with apt-get); says what is missing otherwise.
ensure_image_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v jq >/dev/null || missing+=(jq)
  if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing ${missing[*]}"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "could not install ${missing[*]}; install them with: apt-get install -y ${missing[*]}"
    else
      die "missing ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
    fi
  fi
  [ "$(id -u)" = 0 ] || die "run as root: buildah keeps the image in root's container storage (or run it under 'buildah unshare')"
}

# unpack_debs WORK ROOTFS PACKAGE...: downloads the packages (the versions the machine's apt sources serve today) into
# WORK/debs, unpacks them into ROOTFS without running their scripts, and lists "name<TAB>version<TAB>arch" in
# WORK/debian.tsv for the bill of materials.
unpack_debs() {
  local work=$1 rootfs=$2
  shift 2
  mkdir -p "$work/debs" "$rootfs"
  rm -f "$work"/debs/*.deb
  (cd "$work/debs" && apt-get download "$@" >/dev/null 2>&1) \
    || { apt-get update -qq >/dev/null && (cd "$work/debs" && apt-get download "$@" >/dev/null); } \
    || die "apt-get download $* failed: the Debian package archive must be reachable"
  : >"$work/debian.tsv"
  local deb
  for deb in "$work"/debs/*.deb; do
    dpkg -x "$deb" "$rootfs"
    dpkg-deb -f "$deb" Package Version Architecture | awk -F': ' '{printf "%s%s", (NR>1?"\t":""), $2} END {print ""}' >>"$work/debian.tsv"
  done
}

# trim_rootfs ROOTFS: drops what nothing in an image reads (documentation but the licences, manuals, translations,
# gconv modules) and adds the files a process expects: passwd and group, nsswitch.conf, a UTC localtime, a 1777 /tmp.
# USERS: "name:uid" entries beside root.
trim_rootfs() {
  local rootfs=$1
  shift
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
  rm -rf "$rootfs/usr/share/man" "$rootfs/usr/share/locale" "$rootfs/usr/share/lintian" "$rootfs/usr/share/info" \
    "$rootfs/usr/lib/x86_64-linux-gnu/gconv" "$rootfs/etc/ld.so.conf.d"
  mkdir -p "$rootfs/etc" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  local entry
  for entry in "$@"; do
    printf '%s:x:%s:%s:%s:/nonexistent:/sbin/nologin\n' "${entry%%:*}" "${entry##*:}" "${entry##*:}" "${entry%%:*}" >>"$rootfs/etc/passwd"
    printf '%s:x:%s:\n' "${entry%%:*}" "${entry##*:}" >>"$rootfs/etc/group"
  done
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  ln -sfn /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"
}

# commit CONTAINER IMAGE: a commit whose digest depends only on the content (fixed timestamps, no build history).
commit() {
  buildah commit --quiet --timestamp "$SOURCE_DATE_EPOCH" --omit-history --identity-label=false "$1" "$2" >/dev/null
}

# source_date_epoch: SOURCE_DATE_EPOCH if set, else the time of the checked-out commit.
source_date_epoch() {
  if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
  fi
  export SOURCE_DATE_EPOCH
}
