#!/usr/bin/env bash
# mkcorpus.sh: write the seed corpus of every fuzz target into
# tests/fuzz/corpus/NAME/, one small file per seed, named after what it is.
# The files are committed; run this again after changing a target's input
# layout (see the comment at the top of tests/fuzz/fuzz_NAME.c).
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)/corpus

# seed TARGET NAME FORMAT [ARG...]: printf FORMAT into corpus/TARGET/NAME.
seed() {
	local target=$1 name=$2
	shift 2
	mkdir -p "$dir/$target"
	# shellcheck disable=SC2059 # the format is the seed
	printf "$@" >"$dir/$target/$name"
}

# frame TAG PORT BODY: a frame header for BODY (printf escapes), as escapes.
frame() {
	local body len
	# shellcheck disable=SC2059 # BODY holds escapes
	body=$(printf "$3"; printf x)
	len=$(( ${#body} - 1 ))
	printf 'EFWD\\x01\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x%s' "$1" $(( $2 >> 8 )) \
	    $(( $2 & 255 )) $(( len >> 8 )) $(( len & 255 )) "$3"
}

# cframe TYPE STREAM PAYLOAD: a carrier frame (carrier.h) for PAYLOAD (printf
# escapes), as escapes.
cframe() {
	local len
	# Counted by wc: a command substitution would drop the NUL bytes.
	# shellcheck disable=SC2059 # PAYLOAD holds escapes
	len=$(printf "$3" | wc -c)
	printf '\\x02\\x%02x\\x00\\x00\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x%02x\\x%02x%s' \
	    "$1" $(( $2 >> 24 & 255 )) $(( $2 >> 16 & 255 )) $(( $2 >> 8 & 255 )) \
	    $(( $2 & 255 )) $(( len >> 8 )) $(( len & 255 )) "$3"
}

# The committed corpus is the named seeds below and nothing else: what a
# fuzzing run finds stays in build/fuzz/corpus (make fuzz), not here.
rm -rf "$dir"

# frame: 2 bytes of body_max, then the stream.
seed frame epmd-then-names '\x00\x40EFWD\x01\x01\x11\x11\x00\x00\x00\x01n'
seed frame dist-45123 '\x00\x40EFWD\x01\x02\xb0\x43\x00\x00'
seed frame info-request '\x00\x40EFWD\x01\x03\x00\x00\x00\x00'
seed frame reserved-body '\x00\x40EFWD\x01\x02\x11\x12\x00\x04abcd'
seed frame body-over-limit '\x00\x00EFWD\x01\x02\x11\x12\x00\x05hello'
seed frame info-reply "\\x40\\x00$(frame 3 0 'version=0.1.0\nhost=dyno\nepmd=up\n')"
seed frame http '\x00\x40GET / HTTP/1.1\r\nHost: x\r\n\r\n'
seed frame bad-version '\x00\x40EFWD\x02\x02\x11\x12\x00\x00'
seed frame dist-port-0 '\x00\x40EFWD\x01\x02\x00\x00\x00\x00'

# epmd: 2 bytes of a port to look for, then a request or a NAMES text.
seed epmd names-req '\x11\x11\x00\x01n'
seed epmd port-please2 '\x11\x11\x00\x05zweb1'
seed epmd alive2 '\x11\x11\x00\x0dx\xb0\x43\x4d\x00\x00\x06\x00\x05\x00\x03web\x00\x00'
seed epmd kill '\x11\x11\x00\x01k'
seed epmd empty-req '\x11\x11\x00\x00'
seed epmd names-text '\xb0\x43name web at port 45123\nname worker at port 40001\n'
seed epmd names-odd '\x00\x01name a at port b at port 1\nname  at port 2\nname x at port 65536'
seed epmd names-forged '\x56\x22name x at port 22050\nname y at port 4242\nname e\x1b[2J at port 3\nname c\xc2\x9b at port 4\n'

# distname: a DIST stream's first client bytes.
seed distname send-name-v6 '\x00\x15N\x00\x00\x00\x01\x03\xdf\x7f\xbd\x00\x00\x00\x00\x00\x06a@dyno'
seed distname send-name-v5 '\x00\x0dn\x00\x05\x00\x03\x7f\xbda@dyno'
seed distname http 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
seed distname postgres '\x00\x00\x00\x08\x04\xd2\x16\x2f'

# info: an INFO body, or a whole INFO reply frame.
seed info full 'version=0.1.0\nhost=dyno-1\nepmd_port=4369\nepmd=up\nnode=web 45123\nnode=worker 40001\n'
seed info epmd-down 'version=0.1.0\nhost=dyno\nepmd_port=4369\nepmd=down\n'
seed info frame "$(frame 3 0 'version=0.1.0\nhost=h\nepmd_port=4369\nepmd=up\nnode=a 1\n')"
seed info newer-keys 'colour=blue\nhost=h\nnode_count=1\nnode=a 4370'
seed info crlf 'host=h\r\nepmd_port=4369\r\n'

# socks5: 6 bytes of setup (flags, port, domain length, user and password
# lengths), then the proxy's bytes.
seed socks5 noauth-ipv4 '\x00\x11\x11\x00\x00\x00\x05\x00\x05\x00\x00\x01\x7f\x00\x00\x01\x11\x11'
seed socks5 userpass-domain '\x01\x11\x11\x00\x04\x04\x05\x02\x01\x00\x05\x00\x00\x03\x09localhost\x11\x11'
seed socks5 ipv6-bound '\x02\x11\x11\x00\x00\x00\x05\x00\x05\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x04\x38'
seed socks5 refused '\x04\x11\x11\x00\x00\x00\x05\x00\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00'
seed socks5 no-acceptable '\x01\x11\x11\x00\x01\x01\x05\xff'
seed socks5 auth-refused '\x07\x11\x11\x20\x03\x03\x05\x02\x01\x01'

# config: NUL-separated HOSTS, TUNNEL, BIND, DEBUG, TIMEOUT_MS, EPMD_PORT,
# a name to match, a glob, a name to skip.
seed config glob-web 'web.*\x00127.0.0.1:9369\x00loopback\x001\x005000\x004369\x00web.1\x00w*b?1\x00myhost'
seed config routes 'dyno=127.0.0.1:9370, app-*=socks5://user:pa%%40ss@[::1]:1080?target=10.0.0.2&epmd=4370\x00\x00any\x000\x00\x00\x00APP-web\x00*\x00localhost'
seed config literal-and-star '127.0.0.1,*\x00localhost:9369\x00\x00\x00\x00\x00localhost\x00a*a*a*a*a*b\x00aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
seed config socks-tunnel '\x00socks5://u:secret@127.0.0.1:1080?epmd=4369\x00\x00\x00\x0010\x0065535'
seed config bad-pattern 'a b,=\x00nope\x00maybe\x00\x00-1\x000'
seed config socks5h-cluster 'web-*=socks5h://u:p@127.0.0.1:1055?epmd=4369&helper=9370,db=socks5h://127.0.0.1:1055?helper=9371\x00\x00\x00\x00\x00\x00web-1\x00web-*\x00web-0'

# dist: [0] the status buffer's size - 1, [1..16] the digest an ack must
# carry (its first 4 bytes: a creation), then one handshake message's body.
d16='\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f'
seed dist status-ok "\x1f${d16}sok"
seed dist status-not-allowed "\x1f${d16}snot_allowed"
seed dist status-too-long "\x02${d16}salive"
seed dist challenge-new "\x1f${d16}N\x00\x00\x00\x01\x03\xdf\x7f\xbd\x12\x34\x56\x78\x00\x00\x00\x07\x00\x08app@dyno"
seed dist challenge-old "\x1f${d16}n\x00\x05\x03\xdf\x7f\xbd\x12\x34\x56\x78app@web.1"
seed dist challenge-name-nul "\x1f${d16}n\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01app\x00x"
seed dist challenge-name-over "\x1f${d16}N\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\xff\xffx"
seed dist ack "\x1f${d16}a${d16}"
seed dist ack-short "\x1f${d16}a\x00\x01"
seed dist http "\x1f${d16}HTTP/1.1 400 Bad Request\r\n"
# ... and the same body as a port's answer to send_name: status, challenge.
seed dist answer-ok "\x1f${d16}\x00\x03sok\x00\x1bN\x00\x00\x00\x01\x03\xdf\x7f\xbd\x12\x34\x56\x78\x00\x00\x00\x07\x00\x08app@dyno"
seed dist answer-nok "\x1f${d16}\x00\x04snok"

# carrier: one direction of a carrier after its preamble, frame after frame.
# Types: 0 DATA, 1 WINDOW, 2 OPEN, 3 FIN, 4 RESET, 5 PING, 6 PONG, 7 GOAWAY,
# 8 SESSION (ops: 1 NEW, 2 RESUME, 3 ACCEPT, 4 REFUSE), 9 ACK.
seed carrier dist-session "$(cframe 2 1 '\x02\xb0\x43')$(cframe 1 1 '\x00\x04\x00\x00')$(cframe 0 1 'hello')$(cframe 3 1 '')"
seed carrier epmd-names "$(cframe 2 3 '\x01\x11\x11')$(cframe 0 3 '\x00\x01n')$(cframe 3 3 '')"
seed carrier info "$(cframe 2 5 '\x03\x00\x00')$(cframe 3 5 '')"
seed carrier interleaved "$(cframe 2 1 '\x02\x11\x12')$(cframe 2 3 '\x01\x11\x11')$(cframe 0 1 'ab')$(cframe 0 3 'cd')$(cframe 1 1 '\x40\x00\x00\x00')$(cframe 4 3 '\x02')$(cframe 3 1 '')$(cframe 7 0 '\x00done')"
seed carrier ping-pong "$(cframe 5 0 '\x00\x00\x00\x2a')$(cframe 6 0 '\xff\xff\xff\xff')"
seed carrier goaway-idle "$(cframe 7 0 '\x03idle for 60 s')"
seed carrier goaway-escape "$(cframe 7 0 '\x01\x1b[2J')"
seed carrier reset-codes "$(cframe 4 1 '\x01')$(cframe 4 3 '\x03')$(cframe 4 5 '\x04')"
seed carrier window-zero "$(cframe 1 1 '\x00\x00\x00\x00')"
seed carrier window-over "$(cframe 1 1 '\x40\x00\x00\x01')"
seed carrier info-with-port "$(cframe 2 1 '\x03\x11\x11')"
seed carrier dist-port-0 "$(cframe 2 1 '\x02\x00\x00')"
seed carrier data-stream-0 "$(cframe 0 0 'x')"
seed carrier ping-stream-1 "$(cframe 5 1 'abcd')"
seed carrier flags '\x02\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01x'
seed carrier unknown-type '\x02\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
seed carrier data-too-long '\x02\x00\x00\x00\x00\x00\x00\x01\x00\x00\x40\x01'
seed carrier v1-preamble 'EFWD\x01\x02\xb0\x43\x00\x00'
seed carrier half-header '\x02\x00\x00\x00\x00\x00'
sid='\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf'
key='\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f'
count='\x00\x00\x00\x00\x00\x01\x00\x2a'
seed carrier session-new "$(cframe 8 0 "\\x01$sid$key")$(cframe 2 1 '\x01\x11\x11')$(cframe 0 1 'n')$(cframe 9 0 '\x00\x00\x00\x00\x00\x00\x00\x0f')"
seed carrier session-resume "$(cframe 8 0 "\\x02$sid$key$count")$(cframe 9 0 "$count")$(cframe 1 1 '\x00\x00\x01\x00')"
seed carrier session-accept "$(cframe 8 0 "\\x03$count")$(cframe 0 1 'replayed')$(cframe 9 0 '\xff\xff\xff\xff\xff\xff\xff\xff')"
seed carrier session-refuse "$(cframe 8 0 '\x04\x01')$(cframe 8 0 '\x04\x02')$(cframe 8 0 '\x04\x03')$(cframe 8 0 '\x04\x04')$(cframe 7 0 '\x00')"
seed carrier session-refuse-5 "$(cframe 8 0 '\x04\x05')"
seed carrier session-bad-op "$(cframe 8 0 '\x05\x01')"
seed carrier session-new-short "$(cframe 8 0 "\\x01$count")"
seed carrier session-length-3 "$(cframe 8 0 '\x04\x01\x00')"
seed carrier session-stream-1 "$(cframe 8 1 '\x04\x01')"
seed carrier ack-stream-1 "$(cframe 9 1 "$count")"
seed carrier ack-short "$(cframe 9 0 '\x00\x00\x00\x00\x00\x00\x01')"
# ... and the same bytes as a hello body (a CARRIER frame's).
seed carrier hello-streams 'version=0.1.0 streams=256'
seed carrier hello-odd '  streams=007 streams=9 resume=\x01 version='

# cluster: one byte (even: a request to the helper, odd: its LOOKUP
# answer), then the stream (cluster.h).
seed cluster lookup '\x00EFWD\x03\x05\x00\x00\x00\x14web-848cd4f64d-pvpr2'
seed cluster epmd '\x00EFWD\x03\x01\x11\x11\x00\x04\x7f\xf1\x23\x45\x00\x00\x00\x04'
seed cluster dist '\x00EFWD\x03\x02\x9c\xbb\x00\x04\x7f\xff\xff\xfeearly bytes'
seed cluster dist-static-sentinel '\x00EFWD\x03\x02\x9c\xbb\x00\x04\x7f\xef\x00\x01'
seed cluster lookup-port '\x00EFWD\x03\x05\x00\x01\x00\x01a'
seed cluster lookup-bad-name '\x00EFWD\x03\x05\x00\x00\x00\x03a b'
seed cluster v1-preamble '\x00EFWD\x01\x02\xb0\x43\x00\x00'
seed cluster answer '\x01EFWD\x03\x05\x00\x00\x00\x04\x7f\xf0\x00\x01'
seed cluster answer-none '\x01EFWD\x03\x05\x00\x00\x00\x00'
seed cluster answer-outside '\x01EFWD\x03\x05\x00\x00\x00\x04\x0a\x00\x00\x01'

# etf: [0] the text buffer's size - 1, then a message body; its bytes up to a
# NUL are also the text of the well-formed answers the target builds.
seed etf text-otp '\x1f27'
seed etf text-elixir '\x1f1.18.3\x00\x81\x02'
seed etf text-too-long '\x031.20.4\x00\x01'
seed etf answer-otp27 '\x1fp\x83h\x03a\x02w\x00Xw\x12erlfwd-7@localhost\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01\x00\x04\x83h\x02Z\x00\x03w\x12erlfwd-7@localhost\x00\x01\x00\x04\x00\x00\x00\x2a\xde\xad\xbe\xef\x01\x02\x03\x04k\x00\x0227'
