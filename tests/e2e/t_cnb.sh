#!/usr/bin/env bash
# t_cnb: the erlfwd Cloud Native Buildpack (scripts/heroku-cnb, Buildpack API
# 0.10), run the way the lifecycle runs it: bin/detect and bin/build in a
# scratch app directory with only the CNB_* variables the spec gives them.
# detect passes and asks nothing of the plan (fails with 100 under
# ERLFWD_DISABLE=1); build writes a launch layer with erlfwd-server in bin/
# and its Layer Content Metadata ([types], the source hash), a cache-only
# objects layer, refuses to run without its variables; a rebuild with the
# layer restored from the cache reuses it, one with only its metadata
# restored leaves no directory (the previous image's layer is kept), a
# changed input builds again.  `make cnb` packs it with its sources and the
# package builds too.  Then the layer's server is started as `heroku
# run:inside` has the launcher start it: `launcher erlfwd-server --stdio`
# with nothing but the launch layers' bin/ added to PATH; it speaks first
# with its CARRIER frame.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd make cc tar
bp=$E2E_ROOT/scripts/heroku-cnb
toml=$bp/buildpack.toml
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$E2E_ROOT/Makefile")

e2e_assert_eq 'api = "0.10"' "$(grep '^api' "$toml")" "buildpack.toml: Buildpack API 0.10"
e2e_assert_eq "version = \"$version\"" "$(grep '^version' "$toml")" \
    "buildpack.toml: the Makefile's version"
e2e_assert_match "$(grep '^id' "$toml")" '^id = "[A-Za-z0-9./-]+"$' \
    "buildpack.toml: an id of letters, digits, '.', '/' and '-'"

# detect WORLD [VAR=VALUE...]: bin/detect in WORLD/app, as the lifecycle
# runs it.  Sets RC and OUT.
detect() {
	local w=$1
	shift
	OUT=$(cd "$w/app" && env -i PATH=/usr/bin:/bin HOME="$w" \
	    CNB_PLATFORM_DIR="$w/platform" CNB_BUILD_PLAN_PATH="$w/plan.toml" \
	    CNB_BUILDPACK_DIR="$BP" "$@" "$BP/bin/detect" 2>&1)
	RC=$?
}

# build WORLD [VAR=VALUE...]: bin/build in WORLD/app with the buildpack's
# layers directory WORLD/layers/erlfwd_erlfwd-server.  Sets RC and OUT.
build() {
	local w=$1
	shift
	OUT=$(cd "$w/app" && env -i PATH=/usr/bin:/bin HOME="$w" \
	    CNB_LAYERS_DIR="$w/layers/erlfwd_erlfwd-server" \
	    CNB_PLATFORM_DIR="$w/platform" CNB_BP_PLAN_PATH="$w/bp-plan.toml" \
	    CNB_BUILDPACK_DIR="$BP" "$@" "$BP/bin/build" 2>&1)
	RC=$?
	sed 's/^/    | /' <<<"$OUT" | grep -v '^    |     cc ' >&2
}

# world DIR: a scratch app, platform and layers directory.
world() {
	mkdir -p "$1/app" "$1/platform/env" "$1/layers/erlfwd_erlfwd-server"
	printf 'defmodule App do end\n' >"$1/app/app.ex"
	: >"$1/plan.toml"
	: >"$1/bp-plan.toml"
}

BP=$bp
w=$E2E_TMP/w
world "$w"
L=$w/layers/erlfwd_erlfwd-server
detect "$w"
e2e_assert_eq 0 "$RC" "bin/detect passes"
e2e_assert_eq "" "$(cat "$w/plan.toml")" "bin/detect requires and provides nothing"
echo 1 >"$w/platform/env/ERLFWD_DISABLE"
detect "$w"
e2e_assert_eq 100 "$RC" "bin/detect fails (100) with ERLFWD_DISABLE=1 in the platform's env"
rm "$w/platform/env/ERLFWD_DISABLE"

OUT=$(cd "$w/app" && env -i PATH=/usr/bin:/bin CNB_PLATFORM_DIR="$w/platform" \
    CNB_BP_PLAN_PATH="$w/bp-plan.toml" CNB_BUILDPACK_DIR="$BP" "$BP/bin/build" 2>&1)
e2e_assert_eq 1 "$?" "bin/build without CNB_LAYERS_DIR: exit 1"
e2e_assert_contains "$OUT" "CNB_LAYERS_DIR is not set" "bin/build says which variable"

build "$w"
e2e_assert_eq 0 "$RC" "bin/build exits 0"
e2e_assert_contains "$OUT" "building with" "the first build compiles"
e2e_assert_eq "$("$E2E_SERVER_BIN" --version)" "$("$L/erlfwd-server/bin/erlfwd-server" --version)" \
    "the layer's server is this repository's"
meta=$(<"$L/erlfwd-server.toml")
e2e_assert_match "$meta" $'^\\[types\\]\nlaunch = true\nbuild = false\ncache = true\n' \
    "the layer: launch and cache, not build"
e2e_assert_match "$meta" 'source_sha256 = "[0-9a-f]{64}"' "the layer's metadata: the source hash"
e2e_assert_match "$(<"$L/erlfwd-objects.toml")" $'launch = false\nbuild = false\ncache = true' \
    "the objects layer: cache only"
e2e_assert_eq "" "$(find "$w/app" -mindepth 1 ! -name app.ex)" "the app directory is left alone"

# strip_types FILE: the metadata as the lifecycle restores it, without [types].
strip_types() {
	sed -i '/^\[types\]$/,/^$/d' "$1"
}

# A rebuild with the layer restored from the cache: reused, not compiled.
strip_types "$L/erlfwd-server.toml"
strip_types "$L/erlfwd-objects.toml"
build "$w"
e2e_assert_eq 0 "$RC" "rebuild from the cache: exit 0"
e2e_assert_contains "$OUT" "reusing the cached layer" "rebuild from the cache: the layer is reused"
e2e_assert_not_contains "$OUT" "building with" "rebuild from the cache: nothing compiled"
e2e_assert_match "$(<"$L/erlfwd-server.toml")" $'^\\[types\\]\nlaunch = true' \
    "rebuild from the cache: [types] written again"

# A rebuild with only the metadata restored (no cache): no directory.
strip_types "$L/erlfwd-server.toml"
mv "$L/erlfwd-server" "$E2E_TMP/previous-layer"
build "$w"
e2e_assert_eq 0 "$RC" "rebuild from the image's metadata: exit 0"
e2e_assert_contains "$OUT" "keeping the previous image's layer" \
    "rebuild from the image's metadata: the previous layer is kept"
e2e_assert_true "rebuild from the image's metadata: no layer directory written" \
    e2e_not test -e "$L/erlfwd-server"
e2e_assert_match "$(<"$L/erlfwd-server.toml")" $'^\\[types\\]\nlaunch = true' \
    "rebuild from the image's metadata: launch = true, so the lifecycle keeps it"
mv "$E2E_TMP/previous-layer" "$L/erlfwd-server"

# Another input (CFLAGS): built again.
build "$w" CFLAGS=-O1
e2e_assert_eq 0 "$RC" "rebuild with other CFLAGS: exit 0"
e2e_assert_contains "$OUT" "building with" "rebuild with other CFLAGS: compiled again"

# The packaged buildpack: its own src/.
pkg=$E2E_TMP/pkg
make -C "$E2E_ROOT" --no-print-directory B="$pkg" cnb >"$E2E_TMP/make-cnb.log" 2>&1
e2e_assert_eq 0 "$?" "make cnb"
mkdir -p "$E2E_TMP/unpacked"
tar -xzf "$pkg/erlfwd-cnb-$version.tgz" -C "$E2E_TMP/unpacked"
e2e_assert_true "the package holds the buildpack and the sources" \
    test -f "$E2E_TMP/unpacked/buildpack.toml" -a -f "$E2E_TMP/unpacked/src/tools/server/main.c"
BP=$E2E_TMP/unpacked
w2=$E2E_TMP/w2
world "$w2"
build "$w2"
e2e_assert_eq 0 "$RC" "the package's bin/build exits 0"
e2e_assert_eq "$("$E2E_SERVER_BIN" --version)" \
    "$("$w2/layers/erlfwd_erlfwd-server/erlfwd-server/bin/erlfwd-server" --version)" \
    "the package builds the same server"

# Launch: `launcher erlfwd-server --stdio`, the layer's bin/ on PATH and
# nothing else of ours; the server answers a client's hello (a CARRIER
# frame with an empty body) with its own: EFWD, version 2, CARRIER.
mkdir -p "$E2E_TMP/lifecycle"
ln -s "$E2E_DIR/cnb-launcher" "$E2E_TMP/lifecycle/launcher"
hex=$(cd / && { printf 'EFWD\x02\x04\x00\x00\x00\x00'; sleep 1; } |
    env -i PATH="$E2E_TMP/lifecycle:/usr/bin:/bin" CNB_LAYERS_DIR="$w/layers" \
    timeout 10 launcher erlfwd-server --stdio 2>"$E2E_TMP/stdio.err" |
    head -c 6 | od -An -v -tx1 | tr -d ' \n')
e2e_assert_eq "$(e2e_hex EFWD)0204" "$hex" \
    "launcher erlfwd-server --stdio: the layer's server, its CARRIER frame first"
e2e_pass
