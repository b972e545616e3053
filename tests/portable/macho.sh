#!/usr/bin/env bash
# macho.sh FILE ARCH: fail unless FILE is a 64-bit Mach-O for ARCH (arm64 or
# x86_64), read from its first bytes, so that no `file` is needed: the magic
# 0xfeedfacf and the cputype, both little-endian (CPU_TYPE_ARM64 0x0100000c,
# CPU_TYPE_X86_64 0x01000007).
set -u -o pipefail

if (( $# != 2 )); then
	echo "usage: $0 FILE arm64|x86_64" >&2
	exit 2
fi
file=$1 arch=$2
case $arch in
arm64) want='cf fa ed fe 0c 00 00 01' ;;
x86_64) want='cf fa ed fe 07 00 00 01' ;;
*) echo "macho: no such architecture: $arch" >&2; exit 2 ;;
esac
got=$(od -An -v -tx1 -N8 "$file" 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
if [[ $got != "$want" ]]; then
	echo "macho: $file is not a 64-bit Mach-O for $arch: first bytes '${got:-none}', want '$want'" >&2
	exit 1
fi
echo "macho: $file: Mach-O 64-bit $arch ($(wc -c <"$file") bytes)"
