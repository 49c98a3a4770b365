#!/usr/bin/env bash
# Builds (or restores) the local Kubernetes control plane from Go modules: kube-apiserver and
# kube-controller-manager from k8s.io/kubernetes at a pinned release, and etcd from
# go.etcd.io/etcd/server/v3 at the version that release requires. k8s.io/kubernetes cannot be
# `go install`ed (its go.mod replaces every k8s.io/* staging module with a local path), so a small
# wrapper module requires it and replaces each staging module with the matching v0.X.Y release.
#
# Binaries are cached under ${XDG_CACHE_HOME:-~/.cache}/nft-train/kube/<release>/bin, keyed by the
# release; Go's module and build caches stay in their usual places, so a rebuild is quick too.
# Prints the bin directory as its last line.
set -euo pipefail

RELEASE="${KUBE_RELEASE:-v1.34.4}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/nft-train/kube/$RELEASE"
BIN="$CACHE/bin"
COMMANDS=(kube-apiserver kube-controller-manager etcd)

# A change to this recipe (flags, version stamps) rebuilds: the binaries carry its hash.
RECIPE="$(sha256sum "$0" | cut -c1-16)"
have_all() {
  for c in "${COMMANDS[@]}"; do [ -x "$BIN/$c" ] || return 1; done
  [ "$(cat "$BIN/.recipe" 2>/dev/null)" = "$RECIPE" ]
}
if have_all; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || { echo "go is not installed: install Go 1.24 or newer (Debian: apt-get install golang-go)" >&2; exit 1; }
SRC="$CACHE/src"
mkdir -p "$SRC" "$BIN"
cd "$SRC"

# The staging modules the release replaces, each pinned to the release's v0.X.Y.
STAGING_VERSION="v0.${RELEASE#v1.}"
MOD="$(go mod download -json "k8s.io/kubernetes@$RELEASE" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
{
  echo "module nft-train.local/kube-control-plane"
  echo
  echo "go 1.24.0"
  echo
  echo "require k8s.io/kubernetes $RELEASE"
  echo
  echo "replace ("
  grep '=> ./staging/src/' "$MOD" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

// Package tools names the control-plane commands this module builds, so `go mod tidy` keeps them.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
go mod tidy

start=$SECONDS
export CGO_ENABLED=0
# The version stamps Kubernetes' own build sets (hack/lib/version.sh): without them the server says
# v0.0.0-master, and Helm refuses charts that name a minimum kubeVersion.
MINOR="${RELEASE#v1.}"; MINOR="${MINOR%%.*}"
STAMP=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  STAMP="$STAMP -X $pkg.gitVersion=$RELEASE -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
for c in kube-apiserver kube-controller-manager; do
  echo "building $c $RELEASE ..." >&2
  go build -trimpath -ldflags="-s -w $STAMP" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$BIN/$c.tmp" "$BIN/$c"
done
echo "building etcd ..." >&2
go build -trimpath -ldflags='-s -w' -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
mv "$BIN/etcd.tmp" "$BIN/etcd"
echo "$RECIPE" > "$BIN/.recipe"
echo "built the control plane in $((SECONDS - start)) s" >&2
echo "$BIN"
