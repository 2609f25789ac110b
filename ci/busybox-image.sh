#!/usr/bin/env bash
# Builds an OCI image archive of Debian's busybox-static (its httpd on port 80 stands in for
# nginx; no registry is reachable) and prints nothing but errors.
# Usage: ci/busybox-image.sh OUT.tar   (needs /bin/busybox from busybox-static, tar, sha256sum)
set -euo pipefail
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/www" "$work/rootfs/tmp" "$work/layout/blobs/sha256"
cp /bin/busybox "$work/rootfs/bin/busybox"
for app in sh httpd sleep ls cat echo wget nslookup true false; do ln -s busybox "$work/rootfs/bin/$app"; done
echo '<html><body><h1>Welcome to swarmd</h1><p>served by busybox httpd</p></body></html>' > "$work/rootfs/www/index.html"
# Deterministic layer: sorted names, fixed owners and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C "$work/rootfs" -cf "$work/layer.tar" .
layer_digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar")
cp "$work/layer.tar" "$work/layout/blobs/sha256/$layer_digest"
config='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["httpd","-f","-p","80","-h","/www"],"ExposedPorts":{"80/tcp":{}},"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'$layer_digest'"]},"history":[{"created_by":"ci/busybox-image.sh"}]}'
printf '%s' "$config" > "$work/config.json"
config_digest=$(sha256sum "$work/config.json" | cut -d' ' -f1)
config_size=$(stat -c %s "$work/config.json")
cp "$work/config.json" "$work/layout/blobs/sha256/$config_digest"
manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$config_digest'","size":'$config_size'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$layer_digest'","size":'$layer_size'}]}'
printf '%s' "$manifest" > "$work/manifest.json"
manifest_digest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
manifest_size=$(stat -c %s "$work/manifest.json")
cp "$work/manifest.json" "$work/layout/blobs/sha256/$manifest_digest"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$work/layout/oci-layout"
printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$manifest_digest'","size":'$manifest_size',"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' > "$work/layout/index.json"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C "$work/layout" -cf "$out" .
