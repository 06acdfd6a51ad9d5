#!/usr/bin/env bash
# Downloads MNIST and CIFAR-10 (binary version) into DIR (default: ./data),
# in the layout the tools expect (DIR/mnist, DIR/cifar10), and verifies every
# file by SHA-256 before keeping it. Then: export SHALLOW_DATA=DIR.
# Fashion-MNIST comes from Debian instead: apt-get install dataset-fashion-mnist.
set -euo pipefail
dest=${1:-data}
mnist_url=${MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist}
cifar_url=${CIFAR_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
mkdir -p "$dest/mnist" "$dest/cifar10"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check FILE SHA256: FILE's hash (of its gunzipped contents for .gz) must match.
check() {
  local got
  case "$1" in
    *.gz) got=$(gzip -dc "$1" | sha256sum | cut -d' ' -f1) ;;
    *) got=$(sha256sum "$1" | cut -d' ' -f1) ;;
  esac
  [ "$got" = "$2" ] || { echo "download_data: $1: SHA-256 $got, expected $2" >&2; exit 1; }
}

# The IDX contents (hashes of the uncompressed official files).
while read -r sum name; do
  [ -f "$dest/mnist/$name.gz" ] && continue
  curl -fsSL "$mnist_url/$name.gz" -o "$tmp/$name.gz"
  check "$tmp/$name.gz" "$sum"
  mv "$tmp/$name.gz" "$dest/mnist/$name.gz"
done <<'SUMS'
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 t10k-labels-idx1-ubyte
SUMS

if [ ! -f "$dest/cifar10/test_batch.bin" ]; then
  curl -fsSL "$cifar_url" -o "$tmp/cifar.tar.gz"
  tar -xzf "$tmp/cifar.tar.gz" -C "$tmp"
  while read -r sum name; do
    check "$tmp/cifar-10-batches-bin/$name" "$sum"
  done <<'SUMS'
cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5 data_batch_1.bin
a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed data_batch_2.bin
bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67 data_batch_3.bin
014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48 data_batch_4.bin
755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add data_batch_5.bin
SUMS
  # The test batch's first 1,000 records are what ../shared holds; the rest
  # is checked by size.
  head -c 3073000 "$tmp/cifar-10-batches-bin/test_batch.bin" >"$tmp/test_head"
  check "$tmp/test_head" 8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5
  [ "$(stat -c %s "$tmp/cifar-10-batches-bin/test_batch.bin")" -eq 30730000 ] ||
    { echo "download_data: test_batch.bin has the wrong size" >&2; exit 1; }
  mv "$tmp"/cifar-10-batches-bin/*_batch*.bin "$dest/cifar10/"
fi
echo "datasets in $dest; now: export SHALLOW_DATA=$(cd "$dest" && pwd)"
